// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The pdf-lib peer for tests/bench/run.sh: does what `signcore stamp IN SPEC
// -o OUT` does, as one whole Node process, with pdf-lib's public API:
// load the PDF, create one AcroForm field per spec entry at the same place,
// fill it, form.flatten(), save to a file.
//
// usage: node stamp-pdflib.mjs IN.pdf SPEC.json OUT.pdf
//
// It reads the same signcore field spec as signcore (so both tools get the
// same job): rect = [x, y, width, height] in points from the top-left of the
// page, converted here to pdf-lib's bottom-left origin. Mapping of types:
//   text      -> text field, setText(value)
//   checkbox  -> check box, check() when value is true
//   date      -> text field holding the date formatted with date_format
//                (the %d %b %Y %m %y %B subset of strftime is enough here)
//   signature -> text field holding value.text (pdf-lib has no typed-signature
//                appearance; signcore draws it in a script font)
// pdf-lib's default appearance font (Helvetica, auto size) is used throughout.

import { readFile, writeFile } from 'node:fs/promises';
import { PDFDocument } from 'pdf-lib';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July',
  'August', 'September', 'October', 'November', 'December'];

function formatDate(iso, fmt) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) throw new Error(`bad date ${iso}`);
  const [y, mo, d] = [m[1], Number(m[2]), m[3]];
  return (fmt || '%Y-%m-%d').replace(/%([dmYyBb%])/g, (_, c) => ({
    d, m: String(mo).padStart(2, '0'), Y: y, y: y.slice(2),
    B: MONTHS[mo - 1], b: MONTHS[mo - 1].slice(0, 3), '%': '%',
  })[c]);
}

async function main() {
  const [inPath, specPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: node stamp-pdflib.mjs IN.pdf SPEC.json OUT.pdf');
    process.exit(2);
  }
  const [bytes, specText] = await Promise.all([readFile(inPath), readFile(specPath, 'utf8')]);
  const spec = JSON.parse(specText);
  const doc = await PDFDocument.load(bytes);
  const form = doc.getForm();
  const pages = doc.getPages();

  for (const f of spec.fields) {
    const page = pages[f.page - 1];
    if (!page) throw new Error(`${f.name}: no page ${f.page}`);
    // Top-left (as displayed) -> PDF user space; the bench pages have no
    // /Rotate and a MediaBox at the origin, so only the y axis flips.
    const { y: by, height: ph } = page.getMediaBox();
    const [x, y, width, height] = f.rect;
    const box = { x, y: by + ph - y - height, width, height };
    switch (f.type) {
      case 'checkbox': {
        const cb = form.createCheckBox(f.name);
        if (f.value === true) cb.check();
        cb.addToPage(page, box);
        break;
      }
      case 'text':
      case 'date':
      case 'signature': {
        const tf = form.createTextField(f.name);
        const text = f.type === 'date' ? formatDate(f.value, f.date_format)
          : f.type === 'signature' ? f.value.text : String(f.value);
        tf.setText(text);
        tf.addToPage(page, box);
        break;
      }
      default:
        throw new Error(`${f.name}: unsupported type ${f.type}`);
    }
  }

  form.flatten();
  await writeFile(outPath, await doc.save());
}

main().catch((e) => {
  console.error(`stamp-pdflib: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
