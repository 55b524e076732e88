// LAPOR! Pontianak: the variables a filter names (lapor/roles.py CARD_VARIABLES: tracking number, category,
// kelurahan) on every task card, for staff and OPDs too. The engine embeds them in a filter's task list only for
// readers of the whole process instance (FilterResourceImpl, a variable instance query: READ on the instance), which
// no role has: an OPD must not read other OPDs' reports. A candidate of the task reads them through the task itself
// (GET task/{id}/form-variables, as the task's form does), so the card plugin (cam-tasklist-variables) gets what
// the filter did not send from there. Tasklist draws the cards anew on every refresh of the list; what a task's card
// once showed is kept for the page's life (these variables do not change), so the cards neither flicker nor ask again.
import {decorateLink} from './lapor-angular.js';

const shownBefore = new Map(); // task id -> {name: variable}

function show(scope, variables) {
  Object.assign(scope.variablesByName, variables);
  scope.shownVariablesCount = Object.keys(scope.variablesByName).length;
}

decorateLink(
  'camTasklistVariables',
  (link, $injector) =>
    function (scope, ...rest) {
      const result = link.call(this, scope, ...rest);
      const task = scope.$parent && scope.$parent.task;
      const missing = (scope.variableDefinitions || [])
        .map(definition => definition.name)
        .filter(name => !scope.variablesByName[name]);
      if (!task || !missing.length) {
        return result;
      }
      if (shownBefore.has(task.id)) {
        show(scope, shownBefore.get(task.id));
        return result;
      }
      const url = $injector.get('Uri').appUri(`engine://engine/:engine/task/${task.id}/form-variables`);
      const params = {variableNames: missing.join(','), deserializeValues: false};
      $injector
        .get('$http')
        .get(url, {params})
        .then(({data}) => {
          const variables = {};
          for (const [name, variable] of Object.entries(data)) {
            variables[name] = {name, ...variable};
          }
          shownBefore.set(task.id, variables);
          show(scope, variables);
        })
        .catch(() => {}); // the card still shows the task's name and dates
      return result;
    }
);
