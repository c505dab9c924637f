import type { Secrets } from './secrets.js';
import { maskIdNumber, maskPhone } from '../domain/mask.js';

/** Column values for a person's ID number / phone: ciphertext, look-up HMAC, masked copy. */
export function idColumns(s: Secrets, id: string) {
  return { id_enc: s.encrypt(id), id_hmac: idHmac(s, id), id_masked: maskIdNumber(id) };
}
export function phoneColumns(s: Secrets, phone: string) {
  return { phone_enc: s.encrypt(phone), phone_hmac: phoneHmac(s, phone), phone_masked: maskPhone(phone) };
}
export const idHmac = (s: Secrets, id: string) => s.lookupHash(`id:${id}`);
export const phoneHmac = (s: Secrets, phone: string) => s.lookupHash(`phone:${phone}`);
