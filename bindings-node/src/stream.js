// Installed on LiveStream at load: every call's events also go to `for await` iteration and
// to listeners added with on(type, listener) ('speech_started', 'partial', 'speech_stopped',
// 'final', 'event' for all of them, 'end' after finish, 'error' when a call fails and nobody
// awaits it).
(function (exports) {
  const proto = exports.LiveStream.prototype;
  const state = new WeakMap();
  const of = (stream) => {
    let s = state.get(stream);
    if (!s) {
      s = { queue: [], waiting: [], listeners: new Map(), ended: false, failure: null };
      state.set(stream, s);
    }
    return s;
  };
  const emit = (s, type, value) => {
    for (const fn of s.listeners.get(type) || []) fn(value);
  };
  const deliver = (s, events) => {
    for (const ev of events) {
      emit(s, ev.type, ev);
      emit(s, 'event', ev);
      const w = s.waiting.shift();
      if (w) w.resolve({ value: ev, done: false });
      else s.queue.push(ev);
    }
  };
  const end = (s, failure) => {
    if (s.ended) return;
    s.ended = true;
    s.failure = failure || null;
    for (const w of s.waiting.splice(0)) {
      if (failure) w.reject(failure);
      else w.resolve({ value: undefined, done: true });
    }
    if (!failure) emit(s, 'end');
  };
  for (const name of ['push', 'commit', 'clear', 'finish']) {
    const native = proto[name];
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: function (...args) {
        const s = of(this);
        const call = native.apply(this, args);
        return call.then(
          (events) => {
            deliver(s, events);
            if (name === 'finish') end(s);
            return events;
          },
          (err) => {
            // A cancelled stream ends its iteration with the AbortError.
            if (err && err.name === 'AbortError') end(s, err);
            if ((s.listeners.get('error') || []).length) emit(s, 'error', err);
            throw err;
          },
        );
      },
    });
  }
  Object.defineProperty(proto, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function () {
      const s = of(this);
      return {
        next() {
          if (s.queue.length) return Promise.resolve({ value: s.queue.shift(), done: false });
          if (s.ended) {
            return s.failure ? Promise.reject(s.failure) : Promise.resolve({ value: undefined, done: true });
          }
          return new Promise((resolve, reject) => s.waiting.push({ resolve, reject }));
        },
        return() {
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  });
  Object.defineProperty(proto, 'on', {
    configurable: true,
    writable: true,
    value: function (type, listener) {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      const s = of(this);
      if (!s.listeners.has(type)) s.listeners.set(type, []);
      s.listeners.get(type).push(listener);
      return this;
    },
  });
  Object.defineProperty(proto, 'off', {
    configurable: true,
    writable: true,
    value: function (type, listener) {
      const list = of(this).listeners.get(type) || [];
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
      return this;
    },
  });
})
