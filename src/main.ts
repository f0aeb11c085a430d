/// <reference types="vite-plugin-pwa/client" />
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { InferenceClient } from './inference/client.ts';

const client = new InferenceClient();
// A small, documented hook for the end-to-end tests (and curious users in the console).
(globalThis as unknown as { decodingLab: { client: InferenceClient } }).decodingLab = { client };

mount(App, { target: document.getElementById('app') as HTMLElement, props: { client } });

// The offline service worker (see vite.config.ts): production builds only, so `npm run dev` never
// serves stale files from a precache. A new release takes over on the next visit and reloads once.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void import('virtual:pwa-register').then(({ registerSW }) => registerSW({ immediate: true }));
}
