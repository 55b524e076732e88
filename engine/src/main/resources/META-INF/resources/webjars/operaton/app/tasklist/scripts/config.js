// LAPOR! Pontianak: Indonesian is the only locale offered, so every browser gets it whatever its language. id.json
// holds every label of the app (English where not yet translated), so no label ever shows as a raw key. Dates are
// shown in the browser's time zone (Asia/Pontianak on the city's computers; the footer names it).
export default {
  app: {name: 'Tasklist', vendor: 'LAPOR! Pontianak'},
  locales: {availableLocales: ['id'], fallbackLocale: 'id'},
  // Camunda Forms' validation messages in Bahasa Indonesia (form-js has no locale of its own; see the script).
  customScripts: ['scripts/form-messages-id.js'],
  // Tasklist's own keyboard shortcuts (the jar's config.js, which this file replaces).
  shortcuts: {
    claimTask: {key: 'ctrl+alt+c', description: 'ambil tugas yang dipilih'},
    focusFilter: {key: 'ctrl+shift+f', description: 'pindah ke filter pertama'},
    focusList: {key: 'ctrl+alt+l', description: 'pindah ke tugas pertama di daftar'},
    focusForm: {key: 'ctrl+alt+f', description: 'pindah ke isian pertama formulir tugas'},
    startProcess: {key: 'ctrl+alt+p', description: 'buka dialog mulai proses'}
  }
};
