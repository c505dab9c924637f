/**
 * bench/data — pure builders of realistic synthetic people and archive rows, shared by
 * bench/gen.ts (the dataset) and bench/load.ts (the rows a virtual user posts). No I/O.
 * Every row is meant to pass the section registry's rules (gen.ts validates each one).
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same dataset. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof rng>;

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤李王张杨'];
const MALE = ['伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '刚', '平', '辉', '鹏', '华', '飞', '鑫', '波', '斌', '宇', '浩', '凯', '健', '俊', '帆', '旭', '宁', '龙', '林', '阳', '建国', '志强', '文博', '晨', '昊然', '海涛', '建华', '国栋', '子豪', '云飞', '家豪'];
const FEMALE = ['芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '秀英', '玲', '婷', '雪', '慧', '莹', '颖', '琳', '倩', '洁', '梅', '燕', '萍', '红', '丹', '佳', '欣怡', '悦', '蕾', '薇', '雨彤', '思琪', '晓燕', '春梅', '丽华', '桂英', '雅婷'];

export function personName(r: Rng, male: boolean): string {
  return r.pick(SURNAMES) + r.pick(male ? MALE : FEMALE);
}

/** Birth-place codes of Yunnan counties for ID numbers (the app checks only the province). */
export const ID_REGIONS = ['530102', '530103', '530111', '530112', '530113', '530114', '530115', '530124', '530125', '530126', '530127', '530128', '530129', '530181', '530302', '530402', '532301', '532901', '530602', '530802'];

const PHONE_PREFIXES = ['138', '139', '137', '136', '135', '150', '151', '152', '158', '159', '182', '187', '188', '189', '133', '153', '180', '181', '177', '199'];

/** The i-th phone: distinct for every i < 10^8 (7919 is invertible modulo 10^8). */
export function phoneOf(i: number): string {
  return PHONE_PREFIXES[i % PHONE_PREFIXES.length]! + String((i * 7919 + 12_345_678) % 100_000_000).padStart(8, '0');
}

export type Sector = 'health' | 'education' | 'construction' | 'economy';

/** What the row builders need from the dictionaries (names as stored). */
export interface Vocab {
  options: (dict: string) => string[];
  /** Leaf paths of the 所学专业 / 从事专业 trees for a sector (never empty). */
  majors: Record<Sector, string[]>;
  specialties: Record<Sector, string[]>;
  titles: Record<Sector, string[]>;
  committees: string[];
}

export interface Person {
  name: string;
  male: boolean;
  birthYear: number;
  sector: Sector;
  unitName: string;
  /** The dataset's "today", China date YYYY-MM-DD. */
  today: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const date = (y: number, m: number, d = 1) => `${y}-${pad(m)}-${pad(d)}`;

const SCHOOLS: Record<Sector, string[]> = {
  health: ['昆明医科大学', '大理大学', '云南中医药大学', '四川大学', '中南大学', '重庆医科大学', '昆明卫生职业学院'],
  education: ['云南师范大学', '曲靖师范学院', '玉溪师范学院', '西南大学', '华中师范大学', '楚雄师范学院'],
  construction: ['昆明理工大学', '重庆大学', '西南交通大学', '云南大学', '同济大学', '云南农业大学'],
  economy: ['云南财经大学', '云南大学', '西南财经大学', '中南财经政法大学', '昆明学院', '云南民族大学'],
};
const DUTIES: Record<Sector, string[]> = {
  health: ['住院医师', '主治医师', '副主任医师', '护士长', '科室副主任', '主管护师'],
  education: ['班主任', '年级组长', '教研组长', '备课组长', '教务处副主任', '任课教师'],
  construction: ['项目技术负责人', '结构设计师', '施工员', '项目经理', '总工办副主任', '技术员'],
  economy: ['财务主管', '市场部经理', '经济师', '投资分析员', '综合部副部长', '业务主办'],
};
const DEPARTMENTS: Record<Sector, string[]> = {
  health: ['心血管内科', '消化内科', '普外科', '儿科', '护理部', '急诊科', '检验科', '妇产科'],
  education: ['语文组', '数学组', '英语组', '物理组', '德育处', '教务处'],
  construction: ['设计一所', '工程部', '技术质量部', '结构所', '项目管理部'],
  economy: ['财务部', '市场部', '投资发展部', '综合管理部', '审计部'],
};
const WORK_TEXT: Record<Sector, string[]> = {
  health: ['坚持以病人为中心，规范诊疗流程，年门诊诊疗四千余人次', '牵头开展新技术新项目三项，指导规培医师和进修医师', '参与科室质量管理与教学查房，无医疗差错和纠纷', '承担院内急危重症抢救任务，抢救成功率保持在95%以上'],
  education: ['承担两个班的教学任务，所带班级学业水平考试成绩名列前茅', '主持校级课题一项，开展集体备课和公开课十余节', '指导青年教师三名，其中两名在区级优质课比赛中获奖', '组织学生参加科技创新大赛，获市级奖项五项'],
  construction: ['负责多个住宅及公共建筑项目的结构设计与施工图审查', '主持编制施工组织设计和专项方案，解决深基坑支护技术难题', '组织质量安全检查，项目获评省级安全文明标准化工地', '推广装配式建筑技术，缩短工期约两个月'],
  economy: ['负责企业年度预算编制与成本控制，年节约成本三百余万元', '牵头完成项目可行性研究与投资效益分析', '参与企业内控体系建设，完善财务管理制度十余项', '开展市场调研和经营分析，为决策提供数据支撑'],
};
const PAPER_TOPICS: Record<Sector, string[]> = {
  health: ['急性心肌梗死介入治疗后的康复管理', '老年慢性心衰患者的综合护理干预', '腹腔镜胆囊切除术围手术期管理', '儿童社区获得性肺炎的病原学分析'],
  education: ['初中数学课堂深度学习的实践研究', '高中语文群文阅读教学策略', '双减背景下作业设计的优化', '信息技术与学科教学的融合路径'],
  construction: ['高原地区混凝土抗裂措施研究', '深基坑支护结构变形监测分析', '装配式建筑节点连接技术探讨', 'BIM技术在施工管理中的应用'],
  economy: ['中小企业融资约束与对策', '国有企业全面预算管理的实践', '数字经济背景下的成本管控', '云南省特色产业发展的经济分析'],
};
const JOURNALS: Record<Sector, string[]> = {
  health: ['中国实用医刊', '昆明医科大学学报', '护理研究', '中华全科医学', '云南医药'],
  education: ['中学数学教学参考', '语文建设', '云南教育', '中小学管理', '教学与管理'],
  construction: ['建筑结构', '施工技术', '云南建筑', '土木工程学报', '建筑科学'],
  economy: ['财会月刊', '经济问题探索', '云南财经大学学报', '商业会计', '中国集体经济'],
};

/** Text of about n characters built from a sector's sentences. */
function prose(r: Rng, sector: Sector, n: number, lead = ''): string {
  let s = lead;
  while ([...s].length < n) s += r.pick(WORK_TEXT[sector]) + '；';
  return [...s].slice(0, n - 1).join('') + '。';
}

/**
 * One row of a section as a form would post it (strings; an ongoing end as `end_ongoing`).
 * `k` is the row's index among the person's `n` rows of the section (keeps dates and years apart).
 */
export function sectionRow(key: string, k: number, n: number, p: Person, v: Vocab, r: Rng): Record<string, string> {
  const thisYear = Number(p.today.slice(0, 4));
  const gradYear = p.birthYear + 22;
  const workStart = gradYear + (k === 0 ? 0 : 3 * k);
  switch (key) {
    case 'titles':
      return {
        cert_no: `YN${gradYear + 6 + k}${r.int(10000, 99999)}`, specialty: r.pick(v.specialties[p.sector]), title_name: r.pick(v.titles[p.sector]),
        acquisition: r.pick(v.options('title_acquisition')), committee: r.pick(v.committees), certified_on: date(Math.min(thisYear - 1, gradYear + 5 + 3 * k), r.int(1, 12), r.int(1, 28)),
        approval_doc: `云人社〔${Math.min(thisYear - 1, gradYear + 5 + 3 * k)}〕${r.int(10, 300)}号`, employed: r.pick(v.options('employed')),
      };
    case 'educations': {
      const s = gradYear - 4 + 4 * k;
      return {
        education: k === 0 ? '大学本科' : '硕士研究生', degree: k === 0 ? '学士' : '硕士', school: r.pick(SCHOOLS[p.sector]), major: r.pick(v.majors[p.sector]),
        start: date(s, 9), end: date(s + (k === 0 ? 4 : 3), 7), study_form: r.pick(v.options('study_form')), cert_no: String(r.int(100000000, 999999999)) + String(r.int(100000000, 999999999)),
      };
    }
    case 'study': {
      const s = gradYear - 4 + 4 * k;
      return { school: r.pick(SCHOOLS[p.sector]), major: r.pick(v.majors[p.sector]), start: date(s, 9), end: date(s + 3, 7), witness: personName(r, r.chance(0.5)), duty: r.pick(['无', '班长', '学习委员', '团支书']) };
    }
    case 'work': {
      // The last job is the current one (至今).
      const last = k === n - 1;
      const s = date(Math.min(thisYear - 1, workStart), 8);
      const row: Record<string, string> = {
        unit_name: k === 0 && !last ? `昆明市${r.pick(['官渡区', '盘龙区', '西山区'])}${p.sector === 'health' ? '社区卫生服务中心' : p.sector === 'education' ? '第三中学' : '建设发展有限公司'}` : p.unitName,
        specialty: r.pick(v.specialties[p.sector]), start: s, witness: personName(r, r.chance(0.5)), duty: r.pick(DUTIES[p.sector]),
      };
      if (last) row.end_ongoing = '1';
      else row.end = date(Math.min(thisYear - 1, workStart + 2), 7);
      return row;
    }
    case 'summaries':
      return { year: String(thisYear - 1 - k), content: prose(r, p.sector, r.int(150, 600), `${thisYear - 1 - k}年度，`) };
    case 'main-works': {
      const y = Math.min(thisYear - 2, workStart + 4 + k);
      return { start: date(y, r.int(1, 6)), end: r.chance(0.3) ? '至今' : date(y + 1, r.int(7, 12)), duty: r.pick(['负责人', '主要参与人', '技术骨干', '无']), content: prose(r, p.sector, r.int(60, 300)), effect: prose(r, p.sector, r.int(30, 150)) };
    }
    case 'projects': {
      const y = Math.min(thisYear - 2, workStart + 5 + k);
      return { start: date(y, 3), end: date(y + 2, 12), name: `${r.pick(PAPER_TOPICS[p.sector])}（编号${y}${r.int(100, 999)}）`, source: r.pick(v.options('project_level')), role: r.pick(v.options('project_role')), status: r.pick(['已结题', '在研', '已验收']) };
    }
    case 'ip':
      return { name: `一种${r.pick(['便携式监测装置', '快速检测方法', '模块化连接构件', '数据分析系统'])}`, number: `ZL${thisYear - 2 - k}1${r.int(1000000, 9999999)}`, category: r.pick(v.options('ip_category')), approved_on: date(thisYear - 2 - k, r.int(1, 12), r.int(1, 28)), rank: String(r.int(1, 5)) };
    case 'awards':
      return {
        name: `${r.pick(['云南省', '昆明市'])}${r.pick(['科技进步奖', '优秀教学成果奖', '优秀工程设计奖', '先进工作者'])}`, type: r.pick(v.options('award_type')), grade: r.pick(v.options('award_grade')),
        level: r.pick(v.options('award_level')), approved_on: date(thisYear - 2 - k, r.int(1, 12), r.int(1, 28)), authority: r.pick(['云南省人民政府', '昆明市人民政府', '云南省教育厅', '昆明市卫生健康委员会']), rank: String(r.int(1, 6)),
        task: prose(r, p.sector, r.int(20, 120)),
      };
    case 'books':
      return { title: `${r.pick(PAPER_TOPICS[p.sector])}实务`, published_on: date(thisYear - 3 - k, r.int(1, 12), 1), type: r.pick(v.options('book_type')), level: r.pick(v.options('book_level')), part: `第${r.int(1, 9)}章（约${r.int(3, 12)}万字）`, publisher: r.pick(['人民卫生出版社', '高等教育出版社', '中国建筑工业出版社', '云南人民出版社']) };
    case 'papers':
      return { title: r.pick(PAPER_TOPICS[p.sector]) + (k ? `（${k + 1}）` : ''), journal: r.pick(JOURNALS[p.sector]), published_on: date(thisYear - 1 - k, r.int(1, 12), r.int(1, 28)), issn: `ISSN ${r.int(1000, 2999)}-${r.int(1000, 9999)}`, type: r.pick(v.options('paper_type')), level: r.pick(v.options('paper_level')), part: r.pick(['第一作者', '通讯作者', '第二作者']) };
    case 'ce': {
      const y = thisYear - 1 - k;
      return { start: date(y, r.int(3, 6), 10), end: date(y, r.int(7, 11), 20), name: `${y}年度${r.pick(['专业技术人员继续教育', '骨干人员培训班', '新技术研修班'])}`, organizer: r.pick(['云南省人力资源和社会保障厅', '昆明市继续教育中心', '中华医学会云南分会']), place: r.pick(['昆明', '北京', '成都', '线上']), content: prose(r, p.sector, r.int(20, 120)), hours: String(r.int(2, 12)) };
    }
    case 'assessments':
      return { year: String(thisYear - 1 - k), grade: k === 1 && r.chance(0.3) ? '优秀' : '合格', leader: personName(r, r.chance(0.5)) };
  }
  throw new Error(`unknown section ${key}`);
}

/** How many rows of each section a person has: about 10 on average across the 13 sections. */
export function rowCounts(r: Rng): Record<string, number> {
  return {
    titles: r.chance(0.75) ? 1 : 0,
    educations: r.chance(0.3) ? 2 : 1,
    study: r.chance(0.2) ? 2 : 1,
    work: r.chance(0.3) ? 2 : 1,
    summaries: 1,
    'main-works': r.chance(0.4) ? 1 : 0,
    projects: r.chance(0.3) ? 1 : 0,
    ip: r.chance(0.05) ? 1 : 0,
    awards: r.chance(0.2) ? 1 : 0,
    books: r.chance(0.1) ? 1 : 0,
    papers: r.chance(0.15) ? 2 : r.chance(0.4) ? 1 : 0,
    ce: r.chance(0.4) ? 1 : 0,
    assessments: r.int(2, 3),
  };
}

/** The 基本信息 form of a person (validated by the caller against PROFILE_FIELDS). */
export function profileForm(i: number, p: Person, v: Vocab, r: Rng, unitOrgId: number): Record<string, string> {
  return {
    name: p.name, native_place: r.pick(['云南昆明', '云南曲靖', '云南大理', '云南玉溪', '四川宜宾', '云南红河']), ethnic: r.chance(0.8) ? '汉族' : r.pick(v.options('ethnic')),
    political: r.pick(v.options('political_status')), major: r.pick(v.majors[p.sector]), academic_roles: r.chance(0.7) ? '无' : '市级专业学会委员',
    email: `user${i}@example.com`, address: `云南省昆明市${r.pick(['五华区', '盘龙区', '官渡区', '西山区', '呈贡区'])}${r.pick(['青年路', '北京路', '人民中路', '滇池路', '环城南路'])}${r.int(1, 999)}号`,
    postcode: `650${String(r.int(0, 599)).padStart(3, '0')}`, department: r.pick(DEPARTMENTS[p.sector]), position: r.chance(0.7) ? '无' : r.pick(['科室副主任', '副组长', '部门副经理']),
    specialty: r.pick(v.specialties[p.sector]), unit_org_id: String(unitOrgId),
  };
}
