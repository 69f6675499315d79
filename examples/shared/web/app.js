// The demo page: plain JavaScript, no build step, no dependencies.
//
// It never polls. GET /events (server-sent events) says *that* the
// conversation changed, never *what* (events carry no content); each event,
// and the stream's `ready` and `gap` events (which mean "you may have missed
// something"), makes the page read GET /state again; `end` (the conversation
// was deleted) closes the stream. Reads are coalesced: at most one in flight
// and one queued behind it, whatever the event rate.
'use strict';

const $ = (id) => document.getElementById(id);

/** The session event types the server streams (see agentEvents() in the README). */
const EVENT_TYPES = [
  'created', 'turn_appended', 'meta_updated', 'tool_call_started', 'tool_call_completed', 'tool_call_failed',
  'notes_written', 'observer_error', 'observation_queued', 'deleted', 'restored',
];

const page = {
  /** The EventSource while signed in. */
  events: null,
  /** The agent session the open stream follows (from its `ready` event). */
  streamedSession: null,
  reopenTimer: 0,
  /** How long to wait before asking for the stream again after a refusal; doubles up to a minute, reset by `ready`. */
  reopenDelayMs: 3000,
  reading: false,
  readAgain: false,
  /** The observer's notes as last read, and when (performance.now()), so their age ticks on screen between reads. */
  notes: null,
  notesReadAt: 0,
  agentSessionId: null,
  /** Whether the server serves the cold tier's routes (null until asked). */
  coldTier: null,
};

// --- HTTP ----------------------------------------------------------------------

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  return { status: response.status, data };
}

function problem(text) {
  const line = $('problem');
  line.textContent = text ?? '';
  line.hidden = !text;
}

/** A human sentence for an error answer (the server answers stable codes, never messages). */
function explain(status, data) {
  const code = data && data.error;
  if (status === 503) return 'The session store is unavailable right now; try again in a moment.';
  if (status === 403) return 'This conversation belongs to another user. Log out and in again to start your own.';
  if (status === 409 && code === 'conversation_ended') return 'This conversation was ended in another tab.';
  if (code === 'message_too_long') return 'That message is too long (32 KiB at most).';
  if (code === 'invalid_user_id') return 'A user id is 1 to 256 bytes without control characters.';
  return `The server answered ${status}${code ? ` (${code})` : ''}.`;
}

// --- views -------------------------------------------------------------------------

function showLogin() {
  closeEvents();
  page.agentSessionId = null;
  page.notes = null;
  $('chat-view').hidden = true;
  $('account').hidden = true;
  $('login-view').hidden = false;
  $('conversation').replaceChildren();
  $('user-id').focus();
}

function showChat(userId) {
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  $('account').hidden = false;
  $('user-name').textContent = userId;
}

// --- the live stream -----------------------------------------------------------------

function setLive(state, text) {
  const badge = $('live');
  badge.dataset.state = state;
  badge.textContent = text;
}

function openEvents() {
  closeEvents();
  setLive('connecting', 'connecting…');
  const events = new EventSource('/events');
  page.events = events;
  events.addEventListener('ready', (event) => {
    page.streamedSession = JSON.parse(event.data).sessionId;
    page.reopenDelayMs = 3000;
    setLive('live', 'live');
    refresh();
    loadConversations();
  });
  events.addEventListener('gap', (event) => {
    // The server's subscription was interrupted (or this is a reconnection): read everything again.
    page.streamedSession = JSON.parse(event.data).sessionId ?? page.streamedSession;
    setLive('live', 'live');
    refresh();
  });
  for (const type of EVENT_TYPES) events.addEventListener(type, () => refresh());
  events.addEventListener('end', () => {
    // The conversation was deleted (a logout in another tab): the server closed the stream, and EventSource
    // would reconnect by itself only to be answered 404. Close it; the next message starts a conversation
    // and asks for the stream again.
    if (page.events !== events) return;
    closeEvents();
    setLive('off', 'not live');
    refresh();
  });
  events.addEventListener('error', () => {
    if (page.events !== events) return;
    if (events.readyState === EventSource.CONNECTING) {
      // The browser reconnects by itself (the server restarted, the network blinked).
      setLive('reconnecting', 'reconnecting…');
      return;
    }
    // Refused (no conversation yet or any more, Redis unavailable, logged out): ask again later, less and less
    // often; sending a message (which starts a conversation) asks at once.
    setLive('off', 'not live');
    page.events = null;
    events.close();
    page.reopenTimer = setTimeout(() => {
      page.reopenTimer = 0;
      if (!$('chat-view').hidden) openEvents();
    }, page.reopenDelayMs);
    page.reopenDelayMs = Math.min(page.reopenDelayMs * 2, 60_000);
  });
}

function closeEvents() {
  clearTimeout(page.reopenTimer);
  page.reopenTimer = 0;
  if (page.events) page.events.close();
  page.events = null;
  page.streamedSession = null;
}

// --- reading the state ---------------------------------------------------------------

async function refresh() {
  if (page.reading) {
    page.readAgain = true;
    return;
  }
  page.reading = true;
  try {
    do {
      page.readAgain = false;
      const { status, data } = await api('GET', '/state');
      if (status === 401) return showLogin();
      if (status !== 200) {
        problem(explain(status, data));
        continue;
      }
      problem(null);
      showChat(data.userId);
      render(data);
    } while (page.readAgain);
  } catch {
    problem('The server cannot be reached.');
  } finally {
    page.reading = false;
  }
}

function render(state) {
  page.agentSessionId = state.agentSessionId;
  // The conversation moved to another id (a resume, or a write after it expired): follow it.
  if (page.events && page.streamedSession && state.agentSessionId && state.agentSessionId !== page.streamedSession) openEvents();
  if (!page.events && !page.reopenTimer && state.agentSessionId) openEvents();
  renderConversation(state.turns, state.toolCalls, state.turnCount);
  renderObserver(state.observer);
  markCurrentConversation();
}

// --- the conversation ------------------------------------------------------------------

/** The items to show, in order: turns, each tool call just before the reply that used it. */
function conversationItems(turns, toolCalls) {
  const calls = new Map(toolCalls.map((call) => [call.id, call]));
  const placed = new Set();
  const items = [];
  for (const turn of turns) {
    const call = turn.toolCallId ? calls.get(turn.toolCallId) : undefined;
    if (call && !placed.has(call.id)) {
      items.push({ key: `call:${call.id}`, at: call.startedAt, fill: (el) => fillCall(el, call) });
      placed.add(call.id);
    }
    items.push({ key: `turn:${turn.seq}`, at: turn.ts, fill: (el) => fillTurn(el, turn) });
  }
  // Calls no turn refers to yet (pending, or a reply still to come): by start time, after the turns before them.
  const firstAt = turns.length ? turns[0].ts : 0;
  for (const call of toolCalls) {
    if (placed.has(call.id) || call.startedAt < firstAt) continue;
    const item = { key: `call:${call.id}`, at: call.startedAt, fill: (el) => fillCall(el, call) };
    let index = items.length;
    while (index > 0 && items[index - 1].at > call.startedAt) index -= 1;
    items.splice(index, 0, item);
  }
  return items;
}

/**
 * Updates the list in place, keyed by turn seq and call id: a new turn is one
 * new element (what the aria-live log announces), a call's status change is
 * one changed badge, and nothing else is touched.
 */
function renderConversation(turns, toolCalls, turnCount) {
  const list = $('conversation');
  const existing = new Map([...list.children].map((el) => [el.dataset.key, el]));
  let previous = null;
  for (const item of conversationItems(turns, toolCalls)) {
    let el = existing.get(item.key);
    if (el) existing.delete(item.key);
    else {
      el = document.createElement('li');
      el.dataset.key = item.key;
    }
    item.fill(el);
    const wanted = previous ? previous.nextSibling : list.firstChild;
    if (wanted !== el) list.insertBefore(el, wanted);
    previous = el;
  }
  for (const el of existing.values()) el.remove();

  $('empty-conversation').hidden = turns.length > 0;
  $('turn-count').textContent = turnCount ? `(${turnCount} turn${turnCount === 1 ? '' : 's'})` : '';
  const older = turnCount - turns.length;
  $('older-turns').hidden = older <= 0;
  $('older-turns').textContent = older > 0 ? `${older} earlier turn${older === 1 ? '' : 's'} not shown (the page shows the last ${turns.length}).` : '';
}

function fillTurn(el, turn) {
  const signature = `${turn.role}:${turn.content}`;
  if (el.dataset.signature === signature) return;
  el.dataset.signature = signature;
  el.className = `turn turn-${turn.role}`;
  el.dataset.role = turn.role;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = turn.role === 'user' ? 'You' : turn.role === 'assistant' ? 'Agent' : turn.role;
  el.replaceChildren(who, document.createTextNode(turn.content));
}

function fillCall(el, call) {
  const signature = `${call.status}:${call.id}:${call.cached === true}`;
  if (el.dataset.signature === signature) return;
  el.dataset.signature = signature;
  el.className = 'tool-call';
  el.dataset.status = call.status;
  const name = document.createElement('span');
  name.className = 'tool-name';
  name.textContent = `${call.name}()`;
  const badge = document.createElement('span');
  badge.className = `badge badge-${call.status}`;
  badge.textContent = call.status;
  const detail = document.createElement('span');
  detail.className = 'detail';
  const shown = call.status === 'completed' ? `→ ${short(call.result)}` : call.status === 'failed' ? `✗ ${call.error ?? ''}` : `args ${short(call.args)}`;
  detail.textContent = shown;
  el.dataset.cached = String(call.cached === true);
  const parts = [document.createTextNode('Tool call '), name, badge];
  if (call.cached === true) {
    // Answered from the tool cache (agent-session/tool-cache): the tool did not run for this call.
    const cached = document.createElement('span');
    cached.className = 'badge badge-cached';
    cached.title = 'answered from the tool cache: the tool did not run';
    cached.textContent = 'cached';
    parts.push(cached);
  }
  el.replaceChildren(...parts, detail);
}

function short(value) {
  const text = JSON.stringify(value) ?? '';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

// --- the observer panel ----------------------------------------------------------------

function renderObserver(observer) {
  page.notes = observer.ready ? observer : null;
  page.notesReadAt = performance.now();
  $('observer').dataset.ready = String(observer.ready);
  $('observer-waiting').hidden = observer.ready;
  $('observer-notes').hidden = !observer.ready;
  const error = observer.lastError;
  $('observer-error').hidden = !error;
  $('observer-error').textContent = error ? `The observer's last run failed: ${error.message ?? error.code ?? 'unknown error'}` : '';
  if (!observer.ready) return;

  $('notes-lag').textContent = `${observer.lagTurns} turn${observer.lagTurns === 1 ? '' : 's'} behind`;
  $('notes-lag').dataset.lag = String(observer.lagTurns);
  $('notes-covers').textContent = `through turn ${observer.coversThroughSeq}`;
  tickAge();

  const body = $('notes-body');
  const signature = JSON.stringify(observer.notes);
  if (body.dataset.signature === signature) return;
  body.dataset.signature = signature;
  const rows = [];
  const notes = observer.notes;
  const entries = notes && typeof notes === 'object' && !Array.isArray(notes) ? Object.entries(notes) : [['notes', notes]];
  for (const [key, value] of entries) {
    const term = document.createElement('dt');
    const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    term.textContent = words.charAt(0).toUpperCase() + words.slice(1);
    const description = document.createElement('dd');
    if (Array.isArray(value)) {
      if (value.length === 0) description.textContent = 'none';
      else {
        const list = document.createElement('ul');
        for (const entry of value) {
          const line = document.createElement('li');
          line.textContent = typeof entry === 'string' ? entry : JSON.stringify(entry);
          list.append(line);
        }
        description.append(list);
      }
    } else description.textContent = typeof value === 'string' ? value : JSON.stringify(value);
    rows.push(term, description);
  }
  body.replaceChildren(...rows);
}

/** The notes' age as of now: their age when read plus the time since (a clock on the page, no request). */
function tickAge() {
  const notes = page.notes;
  if (!notes) return;
  const ageMs = notes.ageMs + (performance.now() - page.notesReadAt);
  const seconds = Math.floor(ageMs / 1000);
  const age = seconds < 1 ? 'just now' : seconds < 120 ? `${seconds} s ago` : `${Math.floor(seconds / 60)} min ago`;
  const cell = $('notes-age');
  cell.replaceChildren(document.createTextNode(age));
  if (notes.stale) {
    const stale = document.createElement('span');
    stale.className = 'stale';
    stale.textContent = ' (stale)';
    cell.append(stale);
  }
}

// --- past conversations (cold tier) ------------------------------------------------------

async function loadConversations() {
  if (page.coldTier === false) return;
  const { status, data } = await api('GET', '/conversations').catch(() => ({ status: 0, data: null }));
  if (status === 404) {
    // The server runs without the cold tier (no DATABASE_URL).
    page.coldTier = false;
    $('history').hidden = true;
    return;
  }
  if (status !== 200) return;
  page.coldTier = true;
  $('history').hidden = false;
  const list = $('conversations');
  const rows = data.conversations.map((conversation) => {
    const row = document.createElement('li');
    row.dataset.id = conversation.id;
    const summary = document.createElement('span');
    summary.className = 'summary';
    const title = conversation.title ?? `Started ${new Date(conversation.createdAt).toLocaleString()}`;
    summary.textContent = `${title} · ${conversation.turnCount} turn${conversation.turnCount === 1 ? '' : 's'}`;
    const resume = document.createElement('button');
    resume.type = 'button';
    resume.className = 'secondary';
    resume.textContent = 'Resume';
    resume.setAttribute('aria-label', `Resume: ${title}`);
    resume.addEventListener('click', () => resumeConversation(conversation.id));
    row.append(summary, resume);
    return row;
  });
  list.replaceChildren(...rows);
  if (rows.length === 0) list.textContent = 'None yet.';
  markCurrentConversation();
}

function markCurrentConversation() {
  for (const row of $('conversations').children) {
    const current = row.dataset && row.dataset.id === page.agentSessionId;
    const button = row.querySelector('button');
    if (!button) continue;
    button.disabled = current;
    button.textContent = current ? 'Open' : 'Resume';
  }
}

async function resumeConversation(id) {
  const { status, data } = await api('POST', `/conversations/${encodeURIComponent(id)}/resume`);
  if (status !== 200) return problem(explain(status, data));
  problem(null);
  // The cookie now links that conversation: stream its events instead.
  openEvents();
  $('message').focus();
}

// --- forms ---------------------------------------------------------------------------

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const userId = $('user-id').value.trim();
  const { status, data } = await api('POST', '/login', { userId });
  if (status !== 200) return problem(explain(status, data));
  problem(null);
  showChat(data.userId);
  page.coldTier = null;
  openEvents();
  $('message').focus();
});

$('chat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('message');
  const message = input.value;
  if (!message.trim()) return;
  const send = $('send');
  send.disabled = true;
  try {
    // The id makes a retried request idempotent: the server repeats nothing it already wrote.
    const { status, data } = await api('POST', '/chat', { message, messageId: crypto.randomUUID() });
    if (status === 401) return showLogin();
    if (status !== 200) return problem(explain(status, data));
    problem(null);
    input.value = '';
    // The events bring the new turns too; a page whose stream is not live reads them itself, and asks for the stream again.
    if (!page.events || page.events.readyState !== EventSource.OPEN) {
      refresh();
      openEvents();
    }
  } catch {
    problem('The server cannot be reached.');
  } finally {
    send.disabled = false;
    input.focus();
  }
});

// Enter sends, Shift+Enter adds a line.
$('message').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('chat-form').requestSubmit();
  }
});

$('logout').addEventListener('click', async () => {
  closeEvents();
  await api('POST', '/logout').catch(() => undefined);
  $('conversations').replaceChildren();
  page.coldTier = null;
  showLogin();
});

$('reload-conversations').addEventListener('click', () => loadConversations());

setInterval(tickAge, 1000);
refresh();
