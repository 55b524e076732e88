// LAPOR! Pontianak: dates in Cockpit's tables in words, "Senin, 21 Desember 2026 pukul 23.59", instead of the
// "2026-12-21T23:59:59" Operaton's Cockpit sets for its `normal` date format (operaton-cockpit-ui.js, a config block
// of the app's module). This module `cam.cockpit.custom` is bootstrapped after the app's module, so its config block
// runs later and its format wins; the words come from id.json's dateLocales. Times are the browser's (WIB on the
// city's computers; the footer names the zone).
window.angular.module('cam.cockpit.custom').config([
  'camDateFormatProvider',
  formats => formats.setDateFormat('dddd, D MMMM YYYY [pukul] HH.mm', 'normal')
]);
