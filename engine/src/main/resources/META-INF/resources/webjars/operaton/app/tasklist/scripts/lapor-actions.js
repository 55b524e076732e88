// LAPOR! Pontianak: "Buat tugas" and "Mulai proses" only for those who may use them. Reports start through the API
// and tasks come from the process, so no role holds CREATE on Task or on ProcessInstance (lapor/roles.py) and the
// engine refuses both (403); only administrators have them. Tasklist shows both buttons to everyone
// (tasklist.navbar.action plugins `create-task-action` and `start-process-action`); user-styles.css hides them unless
// this script, asking the engine about the logged-in user (GET authorization/check), marks <html> as allowed.
import {tasklistCustom} from './lapor-angular.js';

const ACTIONS = [
  {cssClass: 'lapor-may-create-task', resourceName: 'Task', resourceType: 7},
  {cssClass: 'lapor-may-start-process', resourceName: 'ProcessInstance', resourceType: 8}
];

tasklistCustom.run([
  '$rootScope',
  '$http',
  'Uri',
  ($rootScope, $http, Uri) => {
    const root = document.documentElement;
    const check = Uri.appUri('engine://engine/:engine/authorization/check');
    $rootScope.$watch(
      () => $rootScope.authentication && $rootScope.authentication.name,
      user => {
        ACTIONS.forEach(({cssClass}) => root.classList.remove(cssClass));
        if (!user) {
          return;
        }
        ACTIONS.forEach(({cssClass, resourceName, resourceType}) => {
          const params = {permissionName: 'CREATE', resourceName, resourceType};
          $http
            .get(check, {params})
            .then(({data}) => root.classList.toggle(cssClass, data.authorized === true))
            .catch(() => {}); // stays hidden
        });
      }
    );
  }
]);
