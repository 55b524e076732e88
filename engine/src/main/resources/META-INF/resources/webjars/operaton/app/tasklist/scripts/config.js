// LAPOR! Pontianak: Indonesian is the only locale offered, so every browser gets it whatever its language. id.json
// holds every label of the app (English where not yet translated), so no label ever shows as a raw key. Dates are
// shown in the browser's time zone (Asia/Pontianak on the city's computers; the footer names it).
export default {
  app: {name: 'Tasklist', vendor: 'LAPOR! Kota Pontianak'},
  locales: {availableLocales: ['id'], fallbackLocale: 'id'},
  // Each script says what it changes and why; none changes a file of Operaton's.
  customScripts: [
    'scripts/form-messages-id.js', // Camunda Forms' validation messages in Bahasa Indonesia
    'scripts/lapor-search.js', // "Saring tugas" searches the tracking number first
    'scripts/lapor-card-variables.js', // tracking number, category, kelurahan on each task card
    'scripts/lapor-dates.js', // due dates in words: "Jumat, 18 Desember 2026"
    'scripts/lapor-forms.js', // links open in a new tab; an unclaimed task's report is readable
    'scripts/lapor-actions.js', // "Buat tugas" and "Mulai proses" only for those the engine allows
    '../lapor/branding.js' // the city's name on the login page
  ],
  // Tasklist's own keyboard shortcuts (the jar's config.js, which this file replaces).
  shortcuts: {
    claimTask: {key: 'ctrl+alt+c', description: 'ambil tugas yang dipilih'},
    focusFilter: {key: 'ctrl+shift+f', description: 'pindah ke filter pertama'},
    focusList: {key: 'ctrl+alt+l', description: 'pindah ke tugas pertama di daftar'},
    focusForm: {key: 'ctrl+alt+f', description: 'pindah ke isian pertama formulir tugas'},
    startProcess: {key: 'ctrl+alt+p', description: 'buka dialog mulai proses'}
  }
};
