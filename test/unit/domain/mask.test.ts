import t from 'tap';
import { maskIdNumber, maskName, maskPhone } from '../../../src/domain/mask.js';

t.test('maskIdNumber', async (t) => {
  const cases: [string, string][] = [
    ['53010219900307003X', '5301**********003X'],
    ['11010519491231002X', '1101**********002X'],
    ['110105491231002', '110*********002'], // 15-digit legacy number
    ['1234567890', '12******90'],
    ['12', '**'],
    ['1', '*'],
    ['', ''],
  ];
  for (const [input, want] of cases) t.equal(maskIdNumber(input), want, input);
});

t.test('maskPhone', async (t) => {
  const cases: [string, string][] = [
    ['13812345678', '138****5678'],
    ['19900001111', '199****1111'],
    ['12345678', '12****78'],
    ['1234', '1**4'],
    ['12', '**'],
    ['1', '*'],
    ['', ''],
  ];
  for (const [input, want] of cases) t.equal(maskPhone(input), want, input);
});

t.test('maskName', async (t) => {
  const cases: [string, string][] = [
    ['张伟', '张*'],
    ['欧阳娜娜', '欧***'],
    ['李小明', '李**'],
    ['𠮷野家', '𠮷**'],
    ['张𠮷', '张*'],
    ['买买提·艾力', '买*****'],
    [' 李四 ', '李*'],
    ['张', '*'],
    ['', ''],
  ];
  for (const [input, want] of cases) t.equal(maskName(input), want, input);
});

t.test('never returns the full value for length >= 2', async (t) => {
  const fns = [maskIdNumber, maskPhone, maskName];
  for (const fn of fns) {
    for (let n = 2; n <= 20; n++) {
      const input = '123456789abcdefghijklmnop'.slice(0, n);
      const out = fn(input);
      t.not(out, input, `${fn.name} ${n}`);
      t.equal([...out].length, n, `${fn.name} ${n} keeps length`);
      t.match(out, /\*/);
    }
  }
});
