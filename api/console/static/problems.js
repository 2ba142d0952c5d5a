// A refused job, shown so that it is seen and heard: the page's error region (role="alert")
// is brought into view and focused, since after Submit the top of a long form is far above
// the viewport; each problem is said in the form's words ("Block 6, speed", where the API
// says blocks[5].speed) and links to its field, which is marked invalid until edited.

import { blockField, fieldWord } from "./blocks.js";

const $ = (id) => document.getElementById(id);

// blocks[5] and blocks[5].speed, as the API names them (counting from 0), as the form does.
export function inFormWords(message) {
  return message.replace(/\bblocks\[(\d+)\](?:\.([A-Za-z_]+))?/g, (_, index, name) =>
    `Block ${Number(index) + 1}${name ? `, ${fieldWord(name)}` : ""}`,
  );
}

// The API's problems: {"detail": "..."}, or a list of {loc, msg} naming each field.
async function problemsOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status line below
  }
  if (typeof body?.detail === "string") return [{ message: body.detail }];
  if (Array.isArray(body?.detail)) {
    return body.detail.map((problem) => {
      const loc = Array.isArray(problem.loc) ? problem.loc : [];
      const at = loc[0] === "body" ? loc.slice(1) : loc;
      const input = at[0] === "blocks" && Number.isInteger(at[1]) ? blockField(at[1], at[2] ?? "text") : null;
      return { message: inFormWords(String(problem.msg ?? "invalid value")), input };
    });
  }
  return [{ message: `${response.status} ${response.statusText}`.trim() }];
}

export function clearProblems() {
  for (const input of document.querySelectorAll('#blocks [aria-invalid="true"]')) unmark(input);
}

function unmark(input) {
  input.removeAttribute("aria-invalid");
  input.removeAttribute("aria-describedby");
}

export async function showRefusal(response, intro) {
  const problems = await problemsOf(response);
  clearProblems();
  const region = $("error");
  const heading = Object.assign(document.createElement("p"), { textContent: intro });
  const list = document.createElement("ul");
  problems.forEach(({ message, input }, n) => {
    const item = Object.assign(document.createElement("li"), { id: `problem-${n + 1}` });
    if (input) {
      const link = Object.assign(document.createElement("a"), { href: `#${input.id}`, textContent: message });
      link.addEventListener("click", (event) => {
        event.preventDefault(); // a fragment link scrolls to a field but does not focus it
        input.focus();
      });
      item.append(link);
      // Read out with the field when it is focused; the mark goes once the value is edited.
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", item.id);
      input.addEventListener("input", () => unmark(input), { once: true });
    } else {
      item.textContent = message;
    }
    list.append(item);
  });
  region.replaceChildren(heading, list);
  region.scrollIntoView({ block: "start" });
  region.focus({ preventScroll: true });
}
