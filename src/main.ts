import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { InferenceClient } from './inference/client.ts';

const client = new InferenceClient();
// A small, documented hook for the end-to-end tests (and curious users in the console).
(globalThis as unknown as { decodingLab: { client: InferenceClient } }).decodingLab = { client };

mount(App, { target: document.getElementById('app') as HTMLElement, props: { client } });
