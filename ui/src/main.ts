import { mount } from 'svelte';
import App from './App.svelte';
import { createApiClient } from './lib/api.ts';
import { loadConfig } from './lib/config.ts';
import './app.css';

const config = await loadConfig((url, init) => fetch(url, init), {
  VITE_API_BASE_URL: import.meta.env.VITE_API_BASE_URL,
  VITE_CLOUDFRONT_URL: import.meta.env.VITE_CLOUDFRONT_URL,
});
const api = createApiClient({ baseUrl: config.apiBaseUrl });

mount(App, { target: document.getElementById('app')!, props: { config, api } });
