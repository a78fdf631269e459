// The three nouns of Pier, one line each, for wherever they appear: a version (what runs), a
// tweak (running it again with other inputs) and a training (what makes a new version).

import { h } from "./dom.js";

export const NOUNS = {
  version: "A version is a fixed snapshot of a model's code and weights, named by their content hash; it never changes.",
  tweak: "A tweak runs the same version again with changed inputs: a new prediction, never a new version.",
  training: "A training teaches a version something new from your data; its weights become a new version.",
};

/** One noun's line, as a small note under the control it explains. */
export function nounNote(noun) {
  return h(`p.noun-note.noun-${noun}`, NOUNS[noun]);
}

/** All three, as a short glossary. */
export function nounList() {
  const term = (noun, label) => [h("dt", label), h("dd", NOUNS[noun])];
  return h("dl.noun-list", term("version", "Version"), term("tweak", "Tweak"), term("training", "Training"));
}
