export { stringWidth, charWidth } from "./width.js";
export { wrap } from "./wrap.js";
export { padEnd } from "./pad.js";
