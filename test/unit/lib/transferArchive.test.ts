import crypto from 'node:crypto';
import t from 'tap';
import { writeArchive, verifyArchive, readZip, ARCHIVE_ERRORS } from '../../../src/features/exchange/transferArchive.js';
import { zipBuffer } from '../../../src/features/results/materials.js';
import { ED25519_SPKI, ed25519Public } from '../../../src/lib/secrets.js';

const pair = () => {
  const k = crypto.generateKeyPairSync('ed25519');
  return { key: k.privateKey, pub: (k.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(ED25519_SPKI.length).toString('base64') };
};

t.test('signed archive: every way of changing it is refused with its reason', async (t) => {
  const a = pair();
  const peers = [{ id: 1, name: '甲评委会', public_key: a.pub }];
  const entries = [{ path: 'versions/1.json', data: Buffer.from('{"x":1}') }, { path: 'files/abc', data: Buffer.alloc(3000, 7) }];
  const zip = writeArchive({ kind: 'declarations', id: 'id-1', created_at: '2026-06-15T02:00:00.000Z', sender: { name: '甲评委会', public_key: a.pub } }, entries, a.key);
  const ok = verifyArchive(zip, peers);
  t.ok(ok.ok);
  if (ok.ok) t.same(ok.signer, { id: 1, name: '甲评委会' });

  const rebuilt = (edit: (m: Map<string, Buffer>) => void) => {
    const m = readZip(zip)!;
    edit(m);
    return zipBuffer([...m].map(([name, data]) => ({ name, data })));
  };
  const cases: [string, Buffer, string][] = [
    ['extra entry', rebuilt((m) => m.set('files/evil', Buffer.from('x'))), ARCHIVE_ERRORS.extraEntry('files/evil')],
    ['missing entry', rebuilt((m) => m.delete('files/abc')), ARCHIVE_ERRORS.missingEntry('files/abc')],
    ['changed entry', rebuilt((m) => m.set('versions/1.json', Buffer.from('{"x":2}'))), ARCHIVE_ERRORS.badHash('versions/1.json')],
    ['no signature', rebuilt((m) => m.delete('manifest.sig')), ARCHIVE_ERRORS.noManifest],
    ['garbage signature', rebuilt((m) => m.set('manifest.sig', Buffer.from('AAAA'))), ARCHIVE_ERRORS.badSignature],
    ['truncated', zip.subarray(0, zip.length - 30), ARCHIVE_ERRORS.notZip],
    ['not a zip', Buffer.from('PK nonsense'), ARCHIVE_ERRORS.notZip],
  ];
  for (const [name, buf, error] of cases) t.same(verifyArchive(buf, peers), { ok: false, error }, name);
  t.same(verifyArchive(zip, []), { ok: false, error: ARCHIVE_ERRORS.unknownSigner }, 'no trusted sender');
  t.same(verifyArchive(zip, [{ id: 2, name: '乙', public_key: pair().pub }]), { ok: false, error: ARCHIVE_ERRORS.unknownSigner }, 'another trusted sender');
});

t.test('public keys: only 32 raw bytes in canonical base64', async (t) => {
  t.ok(ed25519Public(pair().pub));
  t.equal(ed25519Public('abc'), null);
  t.equal(ed25519Public(Buffer.alloc(31).toString('base64')), null);
  t.equal(ed25519Public(''), null);
});
