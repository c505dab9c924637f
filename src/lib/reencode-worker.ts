/** Worker thread of reencodeOffThread (src/lib/reencode.ts): one image per message. */
import { parentPort } from 'node:worker_threads';
import { reencodeImage, type ReencodeMime } from './reencode.js';

parentPort?.on('message', (msg: { input: Uint8Array; mime: ReencodeMime; maxPixels: number }) => {
  const input = Buffer.from(msg.input.buffer, msg.input.byteOffset, msg.input.length);
  parentPort!.postMessage(reencodeImage(input, msg.mime, msg.maxPixels));
});
