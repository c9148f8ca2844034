/** Headless Chromium for the runtime's browser tests (the harness the browser benchmark uses too). */
export { ROOT, browser, runInChromium, type PageFile } from '../../src/bench/chromium.js';
