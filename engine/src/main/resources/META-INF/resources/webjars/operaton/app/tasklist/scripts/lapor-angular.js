// LAPOR! Pontianak: what the Tasklist scripts of this folder share. config.js loads them (customScripts) after
// Tasklist has created its AngularJS module `cam.tasklist.custom` and before it starts the app, so they can register
// config and run blocks there: Operaton's documented place for custom code, with no change to its own files.
export const tasklistCustom = window.angular.module('cam.tasklist.custom');

// Wraps the link function of one of Operaton's directives: `wrap(link, $injector)` returns the new link function,
// which may call the original. AngularJS keeps a directive's `link` as `compile` returning it, so `compile` is wrapped.
export function decorateLink(directiveName, wrap) {
  tasklistCustom.config([
    '$provide',
    $provide =>
      $provide.decorator(`${directiveName}Directive`, [
        '$delegate',
        '$injector',
        ($delegate, $injector) => {
          const [directive] = $delegate;
          const compile = directive.compile;
          directive.compile = function (...args) {
            const linked = compile.apply(this, args);
            if (typeof linked === 'function') {
              return wrap(linked, $injector);
            }
            return {...linked, post: wrap(linked.post, $injector)};
          };
          return $delegate;
        }
      ])
  ]);
}

// A label of locales/id.json for code outside AngularJS (DOM observers); null until the app and its labels are loaded.
export function label(key) {
  const injector = window.angular.element(document.documentElement).injector();
  const text = injector ? injector.get('$translate').instant(key) : key;
  return text === key ? null : text;
}
