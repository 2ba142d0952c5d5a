// Read-along: a rendered job's text as it is heard. The sentences and words come from GET
// /result/{id}/timings (where each lands in the final audio); while the audio plays, the
// sentence being spoken (and its word, where the timings have words) is highlighted. A
// sentence is a button: choosing it plays from there. Chapters are listed and seekable, and
// a timeline shows the blocks, the pauses between them and where chapters start.

const $ = (id) => document.getElementById(id);
let sentences = []; // [{start_ms, end_ms, element, words: [{start_ms, end_ms, element}]}]
let current = null;
let currentWord = null;
let player = null;

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function seek(ms) {
  player.currentTime = ms / 1000 + 0.001; // just inside what starts there
  follow();
  player.play().catch(() => {});
}

function sentenceElement(sentence, words) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "sentence" });
  button.dataset.startMs = sentence.start_ms;
  button.dataset.endMs = sentence.end_ms;
  const [from] = sentence.chars;
  const timed = [];
  let at = 0;
  for (const word of words) {
    const start = word.chars[0] - from;
    const end = word.chars[1] - from;
    if (start < at || end > sentence.text.length) continue;
    button.append(sentence.text.slice(at, start));
    const span = Object.assign(document.createElement("span"), { className: "word" });
    span.textContent = sentence.text.slice(start, end);
    button.append(span);
    timed.push({ start_ms: word.start_ms, end_ms: word.end_ms, element: span });
    at = end;
  }
  button.append(sentence.text.slice(at));
  button.addEventListener("click", () => seek(sentence.start_ms));
  return { start_ms: sentence.start_ms, end_ms: sentence.end_ms, element: button, words: timed };
}

function find(list, ms) {
  return list.find((s) => s.start_ms <= ms && ms < s.end_ms) || null;
}

// The highlight, from the player's position.
export function follow() {
  if (!player) return;
  const ms = player.currentTime * 1000;
  const sentence = find(sentences, ms);
  if (sentence !== current) {
    current?.element.classList.remove("current");
    current?.element.removeAttribute("aria-current");
    sentence?.element.classList.add("current");
    sentence?.element.setAttribute("aria-current", "true");
    current = sentence;
  }
  const word = sentence ? find(sentence.words, ms) : null;
  if (word !== currentWord) {
    currentWord?.element.classList.remove("current-word");
    word?.element.classList.add("current-word");
    currentWord = word;
  }
}

function timeline(result) {
  const total = result.duration_ms || 1;
  const box = $("timeline");
  const pieces = [];
  const pct = (ms) => `${((ms / total) * 100).toFixed(3)}%`;
  result.blocks.forEach((block, n) => {
    if (block.start_ms == null) return;
    const piece = Object.assign(document.createElement("button"), { type: "button", className: "tl-block" });
    piece.style.left = pct(block.start_ms);
    piece.style.width = pct(block.end_ms - block.start_ms);
    piece.setAttribute("aria-label", `Block ${n + 1}, ${seconds(block.start_ms)} to ${seconds(block.end_ms)}`);
    piece.addEventListener("click", () => seek(block.start_ms));
    pieces.push(piece);
    const next = result.blocks[n + 1];
    const gapEnd = next?.start_ms ?? total;
    if (gapEnd - block.end_ms >= 50) {
      const pause = Object.assign(document.createElement("span"), { className: "tl-pause" });
      pause.style.left = pct(block.end_ms);
      pause.style.width = pct(gapEnd - block.end_ms);
      pause.title = `Pause of ${gapEnd - block.end_ms} ms`;
      pieces.push(pause);
    }
  });
  for (const chapter of result.chapters || []) {
    const mark = Object.assign(document.createElement("span"), { className: "tl-chapter" });
    mark.style.left = pct(chapter.start_ms);
    mark.title = chapter.title;
    pieces.push(mark);
  }
  const head = Object.assign(document.createElement("span"), { className: "tl-head", id: "timeline-head" });
  pieces.push(head);
  box.replaceChildren(...pieces);
}

function chapters(result) {
  const items = (result.chapters || []).map((chapter) => {
    const item = document.createElement("li");
    const button = Object.assign(document.createElement("button"), { type: "button" });
    button.textContent = `${chapter.title} (${seconds(chapter.start_ms)})`;
    button.addEventListener("click", () => seek(chapter.start_ms));
    item.append(button);
    return item;
  });
  if (!items.length) items.push(Object.assign(document.createElement("li"), { textContent: "No chapters." }));
  $("chapter-list").replaceChildren(...items);
}

// Lays out the read-along for a completed job: its /result and /result/{id}/timings bodies.
export function showReadAlong(audio, result, timings) {
  player = audio;
  const words = timings.words || [];
  const byBlock = new Map();
  for (const sentence of timings.sentences) {
    const own = words.filter(
      (w) => w.block === sentence.block && w.chars[0] >= sentence.chars[0] && w.chars[1] <= sentence.chars[1],
    );
    const made = sentenceElement(sentence, own);
    if (!byBlock.has(sentence.block)) byBlock.set(sentence.block, []);
    byBlock.get(sentence.block).push(made);
  }
  sentences = [...byBlock.values()].flat().sort((a, b) => a.start_ms - b.start_ms);
  current = currentWord = null;
  const paragraphs = [...byBlock.entries()].map(([block, made]) => {
    const p = Object.assign(document.createElement("p"), { className: "ra-block" });
    p.dataset.block = block;
    made.forEach((s, i) => p.append(...(i ? [" ", s.element] : [s.element])));
    return p;
  });
  $("read-along").replaceChildren(...paragraphs);
  timeline(result);
  chapters(result);
  follow();
}

export function setUpReadAlong(audio) {
  for (const event of ["timeupdate", "seeked", "play", "pause"]) audio.addEventListener(event, follow);
  audio.addEventListener("timeupdate", () => {
    const head = $("timeline-head");
    if (head && audio.duration) head.style.left = `${(audio.currentTime / audio.duration) * 100}%`;
  });
  // timeupdate fires a few times a second: a word needs a finer step while playing
  const tick = () => {
    if (!audio.paused) follow();
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
