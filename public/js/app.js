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
  // 换一张 (image code): with JS only the image is reloaded; without, the button posts the form.
  document.addEventListener('click', function (ev) {
    var btn = ev.target && ev.target.closest ? ev.target.closest('[data-captcha-refresh]') : null;
    if (!btn) return;
    var box = btn.closest('.captcha-row');
    var img = box && box.querySelector('img[data-captcha]');
    if (!img) return;
    ev.preventDefault();
    img.src = img.src.replace(/([?&]v=)[^&]*/, '$1' + Date.now().toString(36));
    var input = box.querySelector('input');
    if (input) { input.value = ''; input.focus(); }
  }, true);
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
  // 表十七 crop step (seed 001 §4.3.1): choosing an image opens Cropper (loaded on demand, like
  // Sortable); 上传 replaces the chosen file by the cropped JPEG and posts the same form. PDFs,
  // old browsers and a failed load fall back to the plain upload.
  var cropperLoading = false;
  function croppers(root) {
    var forms = root.querySelectorAll('form[data-crop]');
    if (!forms.length || typeof DataTransfer === 'undefined' || !window.URL) return;
    if (typeof Cropper === 'undefined') {
      if (cropperLoading) return;
      cropperLoading = true;
      var css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = forms[0].getAttribute('data-cropper-css');
      document.head.appendChild(css);
      var s = document.createElement('script');
      s.src = forms[0].getAttribute('data-cropper-src');
      s.onload = function () { croppers(document); };
      s.onerror = function () { cropperLoading = false; };
      document.head.appendChild(s);
      return;
    }
    Array.prototype.forEach.call(forms, function (form) {
      if (form.getAttribute('data-crop-on')) return;
      form.setAttribute('data-crop-on', '1');
      var input = form.querySelector('input[type=file]');
      var stage = form.querySelector('.crop-stage');
      var img = stage.querySelector('img');
      var cropper = null, url = null, sending = false;
      function reset() {
        if (cropper) { cropper.destroy(); cropper = null; }
        if (url) { URL.revokeObjectURL(url); url = null; }
        stage.hidden = true;
      }
      input.addEventListener('change', function () {
        reset();
        var f = input.files && input.files[0];
        if (!f || !/^image\/(jpeg|png)$/.test(f.type)) return;
        url = URL.createObjectURL(f);
        img.src = url;
        stage.hidden = false;
        // checkOrientation off: it re-reads the file through XHR (blocked by connect-src);
        // browsers draw JPEGs upright themselves, and the server re-encodes every image.
        cropper = new Cropper(img, { viewMode: 1, autoCropArea: 1, background: false, checkOrientation: false, preview: stage.querySelector('.crop-preview') });
      });
      Array.prototype.forEach.call(stage.querySelectorAll('[data-rotate]'), function (b) {
        b.addEventListener('click', function () {
          if (!cropper) return;
          cropper.rotate(Number(b.getAttribute('data-rotate')));
          // After a quarter turn the image may overflow the box and the crop box keeps its old
          // shape: fit the turned image into the box, centre it, and crop all of it.
          var box = cropper.getContainerData(), c = cropper.getCanvasData();
          cropper.zoomTo(Math.min(box.width / c.naturalWidth, box.height / c.naturalHeight));
          c = cropper.getCanvasData();
          cropper.setCanvasData({ left: (box.width - c.width) / 2, top: (box.height - c.height) / 2 });
          c = cropper.getCanvasData();
          cropper.setCropBoxData({ left: c.left, top: c.top, width: c.width, height: c.height });
        });
      });
      form.addEventListener('submit', function (e) {
        if (!cropper || sending) return;
        e.preventDefault();
        var canvas = cropper.getCroppedCanvas({ maxWidth: 4096, maxHeight: 4096, fillColor: '#fff', imageSmoothingQuality: 'high' });
        if (!canvas) return;
        sending = true;
        canvas.toBlob(function (blob) {
          if (!blob) { sending = false; return; }
          var dt = new DataTransfer();
          dt.items.add(new File([blob], 'table17.jpg', { type: 'image/jpeg' }));
          input.files = dt.files;
          form.submit();
        }, 'image/jpeg', 0.92);
      });
    });
  }
  // 全选本页 of a batch form: ticks the rows' boxes (form="<id>"); unticking a row unticks it,
  // since the server takes 全选本页 as every row of the page.
  function checkAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll('input[data-check-all]'), function (all) {
      if (all.getAttribute('data-check-all-on') || !all.form || !all.form.id) return;
      all.setAttribute('data-check-all-on', '1');
      var rows = document.querySelectorAll('input[type="checkbox"][name="ids"][form="' + all.form.id + '"]');
      all.addEventListener('change', function () {
        Array.prototype.forEach.call(rows, function (c) { c.checked = all.checked; });
      });
      Array.prototype.forEach.call(rows, function (c) {
        c.addEventListener('change', function () { if (!c.checked) all.checked = false; });
      });
    });
  }
  // A 打印 button (hidden without JS: the browser's own print works the same).
  function printButtons(root) {
    Array.prototype.forEach.call(root.querySelectorAll('button[data-print]'), function (b) {
      if (b.getAttribute('data-print-on')) return;
      b.setAttribute('data-print-on', '1');
      b.hidden = false;
      b.addEventListener('click', function () { window.print(); });
    });
  }
  // Upload slots (views/files/_attachments.njk): a file over the slot's limit is refused before
  // it is sent, with the message the server would give, next to the slot. Listening on the
  // document in the capture phase runs before htmx's boosted submit.
  function overLimit(input) {
    var f = input.files && input.files[0];
    var over = !!f && f.size > Number(input.getAttribute('data-max-bytes'));
    var err = input.form && input.form.querySelector('.err');
    if (err) { err.textContent = over ? input.getAttribute('data-size-message') : ''; err.hidden = !over; }
    if (over) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    return over;
  }
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (t && t.matches && t.matches('input[type=file][data-max-bytes]')) overLimit(t);
  }, true);
  document.addEventListener('submit', function (e) {
    var inputs = e.target && e.target.querySelectorAll ? e.target.querySelectorAll('input[type=file][data-max-bytes]') : [];
    for (var i = 0; i < inputs.length; i++) {
      if (overLimit(inputs[i])) { e.preventDefault(); e.stopPropagation(); return; }
    }
  }, true);
  function init(root) { counters(root); countdown(root); sortables(root); croppers(root); checkAll(root); printButtons(root); }
  document.addEventListener('DOMContentLoaded', function () { init(document); });
  document.addEventListener('htmx:load', function (e) { init(e.target || document); });
})();
