// Copies the vendored front-end libraries from node_modules into public/vendor.
import fs from 'node:fs';
fs.mkdirSync('public/vendor', { recursive: true });
fs.copyFileSync('node_modules/htmx.org/dist/htmx.min.js', 'public/vendor/htmx.min.js');
console.log('public/vendor updated');
fs.copyFileSync('node_modules/sortablejs/Sortable.min.js', 'public/vendor/Sortable.min.js');
// 表十七 crop step (seed 001 §4.3.1); cropperjs 1.x is one script + one stylesheet.
fs.copyFileSync('node_modules/cropperjs/dist/cropper.min.js', 'public/vendor/cropper.min.js');
fs.copyFileSync('node_modules/cropperjs/dist/cropper.min.css', 'public/vendor/cropper.min.css');
