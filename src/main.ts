/// <reference types="vite-plugin-pwa/client" />
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { InferenceClient } from './inference/client.ts';
import { offline } from './lib/offline.svelte.ts';

const client = new InferenceClient();
// A small, documented hook for the end-to-end tests (and curious users in the console).
(globalThis as unknown as { decodingLab: { client: InferenceClient } }).decodingLab = { client };

mount(App, { target: document.getElementById('app') as HTMLElement, props: { client } });

// The offline service worker (see vite.config.ts): production builds only, so `npm run dev` never
// serves stale files from a precache. A new release takes over on the next visit and reloads once.
// Registered after the first model has loaded (or 20 s, whichever is first): its ~65 MB precache
// would otherwise compete with that first load for bandwidth (bench: first token 5.3–6.5 s with an
// immediate registration vs 4.4–4.8 s without).
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  if (navigator.serviceWorker.controller) offline.ready = true;
  let registered = false;
  const register = () => {
    if (registered) return;
    registered = true;
    client.onLoaded = null;
    void import('virtual:pwa-register').then(({ registerSW }) => registerSW({ immediate: true, onOfflineReady: () => (offline.ready = true) }));
  };
  client.onLoaded = register;
  setTimeout(register, 20_000);
}
