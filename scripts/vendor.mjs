// Copies the vendored front-end libraries from node_modules into public/vendor.
import fs from 'node:fs';
fs.mkdirSync('public/vendor', { recursive: true });
fs.copyFileSync('node_modules/htmx.org/dist/htmx.min.js', 'public/vendor/htmx.min.js');
console.log('public/vendor updated');
fs.copyFileSync('node_modules/sortablejs/Sortable.min.js', 'public/vendor/Sortable.min.js');
