// LAPOR! Pontianak: Bahasa Indonesia for the validation messages and select texts of Camunda Forms in Tasklist.
// form-js (bundled in /operaton/lib/deps.js) writes them as fixed English strings, with no translation hook (only a
// field's own patternErrorMessage is configurable), so this module, loaded through config.js's customScripts,
// translates them where form-js shows them: each field's .fjs-form-field-error list, a select's placeholder and
// search box, and an empty dropdown list.
const EXACT = {
  'Field is required.': 'Wajib diisi.',
  'Value is not a number.': 'Nilai harus berupa angka.',
  'Value is expected to be an integer.': 'Nilai harus bilangan bulat.',
  'Field must be a valid email.': 'Isi dengan alamat surel yang sah.',
  'Field must be a valid  international phone number. (e.g. +4930664040900)':
    'Isi dengan nomor telepon internasional yang sah (mis. +6256112345678).'
};
const PATTERNS = [
  [/^Field must match pattern (.*)\.$/, m => `Isian harus sesuai pola ${m[1]}.`],
  [/^Field must have minimum value of (.*)\.$/, m => `Nilai minimal ${m[1]}.`],
  [/^Field must have maximum value of (.*)\.$/, m => `Nilai maksimal ${m[1]}.`],
  [/^Field must have minimum length of (.*)\.$/, m => `Panjang isian minimal ${m[1]} karakter.`],
  [/^Field must have maximum length of (.*)\.$/, m => `Panjang isian maksimal ${m[1]} karakter.`],
  [/^Value is expected to have at most (\d+) decimal digits?\.$/, m => `Nilai paling banyak ${m[1]} angka desimal.`],
  [
    /^Please select a valid value, the two nearest valid values are (.*) and (.*)\.$/,
    m => `Pilih nilai yang sah; dua nilai sah terdekat adalah ${m[1]} dan ${m[2]}.`
  ]
];

export function translate(message) {
  if (Object.prototype.hasOwnProperty.call(EXACT, message)) {
    return EXACT[message];
  }
  for (const [pattern, render] of PATTERNS) {
    const match = pattern.exec(message);
    if (match) {
      return render(match);
    }
  }
  return null;
}

const WIDGET_TEXTS = {
  '.fjs-select-display.fjs-select-placeholder': {Select: 'Pilih'},
  '.fjs-dropdownlist-empty': {'No results': 'Tidak ada hasil', 'All values selected': 'Semua nilai sudah dipilih'}
};

// Only the text node's data changes: form-js (Preact) keeps a reference to that node and writes its next message
// into it, which is then translated again; replacing the node would leave a stale message on screen.
function translateText(element, lookup) {
  const node = element.firstChild;
  if (element.childNodes.length === 1 && node.nodeType === Node.TEXT_NODE) {
    const indonesian = lookup(node.data);
    if (indonesian !== null && indonesian !== node.data) {
      node.data = indonesian;
    }
  }
}

function translateForms(root) {
  root.querySelectorAll('.fjs-form-field-error li').forEach(item => translateText(item, translate));
  for (const [selector, texts] of Object.entries(WIDGET_TEXTS)) {
    const lookup = text => (Object.prototype.hasOwnProperty.call(texts, text) ? texts[text] : null);
    root.querySelectorAll(selector).forEach(element => translateText(element, lookup));
  }
  root.querySelectorAll('.fjs-form input[placeholder="Search"]').forEach(input => {
    input.placeholder = 'Cari';
  });
}

// Re-rendered messages come back in English: every change under <body> is looked at again (translated ones no longer
// match, so this never loops).
new MutationObserver(() => translateForms(document.body)).observe(document.body, {
  childList: true,
  subtree: true,
  characterData: true,
  attributes: true,
  attributeFilter: ['placeholder']
});
translateForms(document.body);
