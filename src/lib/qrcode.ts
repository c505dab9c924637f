import type QRCodeModule from 'qrcode';

/** The QR code library, loaded on first use (a 2FA enrolment or a print), not at start-up (#18). */
export async function qrcode(): Promise<typeof QRCodeModule> {
  return (await import('qrcode')).default;
}
