/**
 * Whether this site works offline now: true once the service worker has precached every file (its
 * `onOfflineReady`), or at load when a service worker already controls the page (it only installs after
 * the whole precache is stored). `npm run dev` never registers one, so there it stays false.
 */
export const offline = $state({ ready: false });
