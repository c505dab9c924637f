/* Small progressive enhancements; every page works without this file. ES2017 for old browsers. */
(function () {
  'use strict';
  // Lets CSS hide the buttons only the no-JS path needs (e.g. 加载申报职称).
  document.documentElement.className += ' js';
  // Live character counter for fields with maxlength and data-counter (counts characters, not bytes).
  function counters(root) {
    var els = root.querySelectorAll('[data-counter][maxlength]');
    Array.prototype.forEach.call(els, function (el) {
      if (el.getAttribute('data-counter-on')) return;
      el.setAttribute('data-counter-on', '1');
      var out = document.createElement('small');
      out.className = 'hint';
      el.parentNode.insertBefore(out, el.nextSibling);
      var update = function () { out.textContent = Array.from(el.value).length + ' / ' + el.getAttribute('maxlength'); };
      el.addEventListener('input', update);
      update();
    });
  }
  // After an SMS code was sent, hold the button for 60 s (the server enforces it anyway).
  function countdown(root) {
    var btn = root.querySelector('[data-sms-sent]');
    if (!btn || btn.getAttribute('data-sms-on')) return;
    btn.setAttribute('data-sms-on', '1');
    var left = 60, label = btn.textContent;
    btn.disabled = true;
    var t = setInterval(function () {
      left -= 1;
      btn.textContent = left > 0 ? left + '秒后重新获取' : label;
      if (left <= 0) { btn.disabled = false; clearInterval(t); }
    }, 1000);
  }
  // Drag-sort: Sortable moves the rows (with their hidden order inputs), then the same
  // order form the 上移/下移 buttons use is posted by htmx ("sorted" trigger).
  var sortableLoading = false;
  function sortables(root) {
    if (typeof htmx === 'undefined') return;
    var els = root.querySelectorAll('[data-sortable]');
    if (!els.length) return;
    if (typeof Sortable === 'undefined') {
      // A list reached through hx-boost: only <body> was swapped, so the page's own <script>
      // for Sortable (in <head>) never ran. Load it now (same origin, allowed by the CSP).
      var src = els[0].getAttribute('data-sortable-src');
      if (!src || sortableLoading) return;
      sortableLoading = true;
      var s = document.createElement('script');
      s.src = src;
      s.onload = function () { sortables(document); };
      s.onerror = function () { sortableLoading = false; };
      document.head.appendChild(s);
      return;
    }
    Array.prototype.forEach.call(els, function (el) {
      if (el.getAttribute('data-sortable-on')) return;
      el.setAttribute('data-sortable-on', '1');
      Sortable.create(el, {
        handle: '.drag',
        animation: 150,
        onEnd: function (ev) {
          if (ev.oldIndex === ev.newIndex) return;
          var form = el.closest('form');
          if (form) htmx.trigger(form, 'sorted');
        }
      });
    });
  }
  function init(root) { counters(root); countdown(root); sortables(root); }
  document.addEventListener('DOMContentLoaded', function () { init(document); });
  document.addEventListener('htmx:load', function (e) { init(e.target || document); });
})();
