// LAPOR! Pontianak: due and follow-up dates in words, "Jumat, 18 Desember 2026", on the task cards and in the task's
// header, instead of "dalam 4 hari". Tasklist draws both with angular-moment's am-time-ago (cam-tasklist-tasks.html,
// cam-tasklist-task-meta.html); inside a .due-date or .followup-date it now writes the date in Bahasa Indonesia, in
// Pontianak's time zone whatever the computer's. Other times (created, history) keep their own form; their
// tooltips already read "Jumat, 18 Desember 2026 pukul 23.59" (the `long` date format and id.json's dateLocales).
import {decorateLink} from './lapor-angular.js';

const IN_WORDS = new Intl.DateTimeFormat('id-ID', {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'Asia/Pontianak'
});

decorateLink(
  'amTimeAgo',
  (link, $injector) =>
    function (scope, element, attrs, ...rest) {
      if (!element[0].closest('.due-date, .followup-date')) {
        return link.call(this, scope, element, attrs, ...rest);
      }
      const moment = $injector.get('moment'); // parses the engine's "2026-12-18T23:59:59.000+0700"
      scope.$watch(attrs.amTimeAgo, value => {
        element.text(value ? IN_WORDS.format(moment(value).toDate()) : '');
      });
    }
);
