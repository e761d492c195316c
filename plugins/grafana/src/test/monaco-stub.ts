// Tests only: Grafana supplies Monaco at run time and jsdom cannot run it,
// so @grafana/ui's CodeEditor gets this empty module (it then shows its
// loading placeholder).
export const editor = {};
export const languages = {};
export default {};
