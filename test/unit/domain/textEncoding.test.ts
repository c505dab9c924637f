import t from 'tap';
import { detectEncoding, decodeCsvBytes } from '../../../src/domain/textEncoding.js';
import { encodeGbk } from '../../helpers/gbk.js';

const TEXT = '身份证号,姓名,职称名称\r\n530102199003071234,张伟,主治医师\r\n';

t.test('detectEncoding: a BOM or valid UTF-8 is UTF-8, anything else GBK', async (t) => {
  const cases: [string, Uint8Array, 'utf-8' | 'gbk'][] = [
    ['UTF-8 without BOM', Buffer.from(TEXT, 'utf8'), 'utf-8'],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]), 'utf-8'],
    ['plain ASCII', Buffer.from('a,b,c\n1,2,3\n'), 'utf-8'],
    ['empty', Buffer.alloc(0), 'utf-8'],
    ['GBK (Excel on Chinese Windows)', encodeGbk(TEXT), 'gbk'],
    ['GBK, one name only', encodeGbk('李娜'), 'gbk'],
    ['UTF-8 cut inside a character', Buffer.from('张伟', 'utf8').subarray(0, 4), 'gbk'],
  ];
  for (const [name, bytes, want] of cases) t.equal(detectEncoding(bytes), want, name);
});

t.test('decodeCsvBytes: the same text from each encoding, BOM dropped', async (t) => {
  const cases: [string, Uint8Array][] = [
    ['UTF-8', Buffer.from(TEXT, 'utf8')],
    ['UTF-8 + BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')])],
    ['GBK', encodeGbk(TEXT)],
  ];
  for (const [name, bytes] of cases) t.equal(decodeCsvBytes(bytes).text, TEXT, name);
  t.equal(decodeCsvBytes(encodeGbk(TEXT)).encoding, 'gbk');
});
