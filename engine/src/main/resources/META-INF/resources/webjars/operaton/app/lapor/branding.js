// LAPOR! Pontianak: the city's name on the login page of every webapp (Tasklist, Cockpit, Admin, welcome), where
// Operaton draws its own logo. Loaded by each app's config.js (customScripts) before the app starts, so it can add a
// directive to the app's `cam.<app>.custom` module: restricted to the class `login-logo` (the logo's box in
// operaton-commons-ui's auth/page/login.html), it puts the app's vendor name from config.js beside it, and
// branding.css hides the logo. The header of each app shows the same name (config.js `app.vendor`).
const angular = window.angular;
const appName = document.querySelector('base').getAttribute('app-name');

angular.module(`cam.${appName}.custom`).directive('loginLogo', [
  'configuration',
  configuration => ({
    restrict: 'C',
    link(scope, element) {
      const brand = document.createElement('div');
      brand.className = 'lapor-brand';
      brand.textContent = configuration.getAppVendor();
      element[0].after(brand);
    }
  })
]);
