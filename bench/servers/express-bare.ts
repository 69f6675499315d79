/** Server 1: bare Express, no session. The ceiling. */
import { serve } from './boot.js';
import { expressApp } from './express-app.js';
import { bareHandlers } from './handlers.js';

await serve(expressApp([], bareHandlers()));
