// LAPOR! Pontianak: "Saring tugas" finds a report by its tracking number. Tasklist's search box
// (cam-tasklist-search-plugin) turns typed text into a search of the type marked `default` in its bundled
// cam-tasklist-search-plugin-config.json: the task name in Operaton 1.0.3, one of 31 types. Here the process instance's
// business key, which is the report's tracking id, becomes that default and the first type offered, named
// "Nomor laporan" (LAPOR_SEARCH_TRACKING_ID); its first operator is LIKE, so part of a number finds it too. The
// search widget (operaton-commons-ui cam-widget-search) reads the types when it links, so they are changed just before.
import {decorateLink} from './lapor-angular.js';

const TRACKING_ID_TYPE = 'processInstanceBusinessKey';

function preferTrackingNumber(types) {
  const index = (types || []).findIndex(type => type.id.key === TRACKING_ID_TYPE);
  if (index < 0) {
    return;
  }
  const [trackingNumber] = types.splice(index, 1);
  types.unshift(trackingNumber);
  types.forEach(type => delete type.default);
  trackingNumber.default = true;
  trackingNumber.id.value = 'LAPOR_SEARCH_TRACKING_ID'; // the widget translates it while linking
}

decorateLink(
  'camWidgetSearch',
  link =>
    function (scope, ...rest) {
      preferTrackingNumber(scope.types);
      return link.call(this, scope, ...rest);
    }
);
