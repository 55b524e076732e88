// LAPOR! Pontianak: Bahasa Indonesia for the validation messages of Camunda Forms in Tasklist. form-js (bundled in
// /operaton/lib/deps.js) writes them as fixed English strings, with no translation hook (only a field's own
// patternErrorMessage is configurable), so this module, loaded through config.js's customScripts, translates them
// where form-js shows them: the items of each field's .fjs-form-field-error list.
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

function translateErrors(root) {
  root.querySelectorAll('.fjs-form-field-error li').forEach(item => {
    const indonesian = translate(item.textContent);
    if (indonesian !== null) {
      item.textContent = indonesian;
    }
  });
}

// Re-rendered messages come back in English: every change under <body> is looked at again (translated ones no longer
// match, so this never loops).
new MutationObserver(() => translateErrors(document.body)).observe(document.body, {
  childList: true,
  subtree: true,
  characterData: true
});
translateErrors(document.body);
