// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The Node peer for tests/bench/batch.sh: the same batch job as `signcore
// batch` (stamp the 5 fields of a spec with per-document values, flatten,
// sign), done the way Node projects do it with pdf-lib + @signpdf/signpdf,
// at its best: one warm Node process for a whole list of documents. Run two
// of these side by side for two cores. (A P12Signer consumes its PKCS#12
// buffer when it signs, so each document gets a new one: @signpdf parses
// the PKCS#12 again for every signature.)
//
// usage: node batch-signpdf.mjs JOBS.jsonl FIRST COUNT CERT.p12 PASSWORD_FILE
//   JOBS.jsonl: the signcore batch manifest (input, output, spec, values);
//   lines FIRST .. FIRST+COUNT-1 (0-based) are done, outputs get ".signpdf"
//   inserted before ".pdf".
//
// Fields: text/date/signature -> pdf-lib text fields (Helvetica), checkbox ->
// check box; form.flatten(); an invisible adbe.pkcs7.detached signature
// (node-forge, SHA-256). Less than signcore does (no script face, no
// embedded fonts, not PAdES), and pdf-lib rewrites each file whole.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';

async function main() {
  const [jobsPath, first, count, p12Path, passPath] = process.argv.slice(2);
  if (!passPath) {
    console.error('usage: node batch-signpdf.mjs JOBS.jsonl FIRST COUNT CERT.p12 PASSWORD_FILE');
    process.exit(2);
  }
  const base = dirname(jobsPath);
  const lines = (await readFile(jobsPath, 'utf8')).split('\n').filter((l) => l.trim());
  const jobs = lines.slice(Number(first), Number(first) + Number(count)).map((l) => JSON.parse(l));
  const [p12, pass] = await Promise.all([readFile(p12Path), readFile(passPath, 'utf8')]);
  const passphrase = pass.split(/\r?\n/)[0];
  const signpdf = new SignPdf();
  const specs = new Map();

  for (const job of jobs) {
    if (!specs.has(job.spec)) specs.set(job.spec, JSON.parse(await readFile(join(base, job.spec), 'utf8')));
    const spec = specs.get(job.spec);
    const doc = await PDFDocument.load(await readFile(join(base, job.input)));
    const form = doc.getForm();
    const pages = doc.getPages();
    for (const f of spec.fields) {
      const page = pages[f.page - 1];
      const { y: by, height: ph } = page.getMediaBox();
      const [x, y, width, height] = f.rect;
      const box = { x, y: by + ph - y - height, width, height };
      const v = job.values[f.name];
      if (f.type === 'checkbox') {
        const cb = form.createCheckBox(f.name);
        if (v === true) cb.check();
        cb.addToPage(page, box);
      } else {
        const tf = form.createTextField(f.name);
        tf.setText(v === undefined ? '' : typeof v === 'object' ? v.text : String(v));
        tf.addToPage(page, box);
      }
    }
    form.flatten();
    pdflibAddPlaceholder({ pdfDoc: doc, reason: 'Bench', contactInfo: '', name: 'Bench Signer', location: '' });
    const withPlaceholder = await doc.save({ useObjectStreams: false });
    const signer = new P12Signer(p12, { passphrase });
    const signed = await signpdf.sign(Buffer.from(withPlaceholder), signer);
    await writeFile(join(base, job.output.replace(/\.pdf$/, '.signpdf.pdf')), signed);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
