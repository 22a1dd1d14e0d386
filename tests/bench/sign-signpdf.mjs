// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The Node peer for tests/bench/sign.sh: signs a PDF the way most Node
// projects do, as one whole Node process, with the public APIs of
// @signpdf/signpdf v3 + pdf-lib:
//   PDFDocument.load -> pdflibAddPlaceholder (@signpdf/placeholder-pdf-lib)
//   -> pdfDoc.save({ useObjectStreams: false }) -> signpdf.sign() with a
//   P12Signer (@signpdf/signer-p12, node-forge) -> write the file.
// (@signpdf/signpdf is CommonJS: its default export is reached as the
// named SignPdf class under ESM import, hence `new SignPdf()`.)
//
// usage: node sign-signpdf.mjs IN.pdf CERT.p12 PASSWORD_FILE OUT.pdf
//
// The signature is adbe.pkcs7.detached with SHA-256 (node-forge's PKCS#7,
// signer-p12's defaults). The placeholder's widget has no appearance stream
// and a zero rectangle (the library's default), so this is an invisible
// signature. pdf-lib rewrites the whole file on save (not an incremental
// update), as every user of this stack gets.

import { readFile, writeFile } from 'node:fs/promises';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';

async function main() {
  const [inPath, p12Path, passPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: node sign-signpdf.mjs IN.pdf CERT.p12 PASSWORD_FILE OUT.pdf');
    process.exit(2);
  }
  const [pdfBytes, p12, pass] = await Promise.all([
    readFile(inPath), readFile(p12Path), readFile(passPath, 'utf8'),
  ]);
  const pdfDoc = await PDFDocument.load(pdfBytes);
  pdflibAddPlaceholder({
    pdfDoc,
    reason: 'Bench',
    contactInfo: '',
    name: 'Bench Signer',
    location: '',
  });
  // signpdf finds the placeholder by scanning the bytes: no object streams.
  const withPlaceholder = await pdfDoc.save({ useObjectStreams: false });
  const signer = new P12Signer(p12, { passphrase: pass.split(/\r?\n/)[0] });
  const signed = await new SignPdf().sign(Buffer.from(withPlaceholder), signer);
  await writeFile(outPath, signed);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
