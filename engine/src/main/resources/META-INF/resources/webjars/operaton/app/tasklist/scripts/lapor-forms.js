// LAPOR! Pontianak: task forms that staff can work with.
// - Links in a form open in a new tab: form-js (Camunda Forms) renders a text field's markdown links without a
//   target, so "Buka detail laporan" used to replace Tasklist in the same tab.
// - The report can be read before the task is claimed: Tasklist puts the class `disabled-form` on the form of a task
//   the user is not assigned to (cam-tasklist-form.html), and operaton-commons-ui's cam-form.scss lays a
//   `.disabled-form::before` overlay over all of it, links and text included. user-styles.css removes the overlay;
//   this script keeps the fields out of reach instead (`inert`: what is typed before claiming would be lost when
//   Tasklist draws the form again) and says above the form how to fill it in (LAPOR_CLAIM_TO_FILL). Completing still
//   needs the claim: Tasklist disables "Selesaikan" and the engine refuses anyone but the assignee.
import {label} from './lapor-angular.js';

const FORM = '[cam-tasklist-form]';
const CONTROLS = 'input, textarea, select, button';
const FIELD = '.fjs-form-field, .form-group'; // Camunda Forms' field, or an embedded (HTML) form's group

function openLinksInNewTab(root) {
  root.querySelectorAll(`${FORM} a[href]`).forEach(link => {
    if (/^https?:$/.test(link.protocol) && link.target !== '_blank') {
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
    }
  });
}

function lockUnclaimedFields(root) {
  root.querySelectorAll('.disabled-form').forEach(form => {
    if (!form.querySelector(':scope > .lapor-claim-hint')) {
      const text = label('LAPOR_CLAIM_TO_FILL');
      if (text) {
        const hint = document.createElement('p');
        hint.className = 'lapor-claim-hint alert alert-info';
        hint.setAttribute('role', 'note');
        hint.textContent = text;
        form.prepend(hint);
      }
    }
    form.querySelectorAll(CONTROLS).forEach(control => {
      if (!control.closest('.form-actions, .alert')) {
        const field = control.closest(FIELD) || control;
        field.inert = true;
        field.dataset.laporLocked = '';
      }
    });
  });
  // Claimed: the same form becomes workable.
  root.querySelectorAll('.lapor-claim-hint').forEach(hint => {
    if (!hint.parentElement.classList.contains('disabled-form')) {
      hint.remove();
    }
  });
  root.querySelectorAll('[data-lapor-locked]').forEach(field => {
    if (!field.closest('.disabled-form')) {
      field.inert = false;
      delete field.dataset.laporLocked;
    }
  });
}

function tidy() {
  openLinksInNewTab(document.body);
  lockUnclaimedFields(document.body);
}

// form-js and Tasklist draw forms after their data arrives; a claim only changes the class. Each pass changes only
// what is not yet right, so its own changes do not start it again without end.
new MutationObserver(tidy).observe(document.body, {
  childList: true,
  subtree: true,
  attributes: true,
  attributeFilter: ['class', 'href']
});
tidy();
