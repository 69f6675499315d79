/** Server 4: bare Koa, no session. The ceiling. */
import { serve, settings } from './boot.js';
import { bareHandlers } from './handlers.js';
import { koaApp } from './koa-app.js';

await serve(koaApp(settings().secret, () => [], bareHandlers()).callback());
