// LAPOR! Pontianak: Indonesian is the only locale offered, so every browser gets it whatever its language. id.json
// holds every label of the app (English where not yet translated), so no label ever shows as a raw key. Dates are
// shown in the browser's time zone (Asia/Pontianak on the city's computers; the footer names it).
export default {
  app: {name: 'Cockpit', vendor: 'LAPOR! Kota Pontianak'},
  locales: {availableLocales: ['id'], fallbackLocale: 'id'},
  // The city's name on the login page (shared by every webapp: app/lapor/branding.js).
  customScripts: [
    '../lapor/branding.js',
    'scripts/lapor-dates.js', // dates in words in every table: "Senin, 21 Desember 2026 pukul 23.59"
    'scripts/lapor-sla.js', // the supervisors' SLA view on the dashboard (issue 20)
    'scripts/lapor-history.js' // finished reports: found by tracking id, read with who did each task and when
  ]
};
