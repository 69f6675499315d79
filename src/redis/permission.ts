import { RedisPermissionError } from '../errors.js';

/**
 * Redis's ACL refusals, as the typed `RedisPermissionError`. Redis words them
 * differently by version and by where the command ran:
 *
 *   NOPERM this user has no permissions to run the 'xadd' command          (a command, 7.x)
 *   NOPERM User app has no permissions to run the 'hset' command script: … (in a script, 7.2+)
 *   ERR The user executing the script can't run this command or subcommand script: … (in a script, 7.0)
 *   NOPERM this user has no permissions to access one of the keys used as arguments   (7.0)
 *   NOPERM No permissions to access a key                                  (7.2+)
 *   ERR The user executing the script can't access at least one of the keys mentioned in the command script: …
 *
 * Only the command's name is kept: the ACL user's name and the rest of the
 * reply stay out of the message, and the reply is not kept as the cause.
 */
const DENIED_COMMAND = /^(?:NOPERM|ERR) .*?has no permissions to run the '([^']+)' command/;
const DENIED_IN_SCRIPT = /^ERR The user executing the script can't run this command or subcommand\b/;
const DENIED_KEY = /^(?:(?:NOPERM|ERR) .*no permissions to access (?:one of the keys|a key)|ERR The user executing the script can't access at least one of the keys)/i;
const DENIED_CHANNEL = /^(?:(?:NOPERM|ERR) .*no permissions to access (?:one of the channels|a channel)|ERR The user executing the script can't publish to the channel)/i;

/**
 * The typed error for an ACL refusal, or undefined for any other error.
 * `script` names the script the command ran in, for the replies that name no command.
 */
export function toPermissionError(error: unknown, script?: string): RedisPermissionError | undefined {
  if (!(error instanceof Error)) return undefined;
  const message = error.message;
  const inScript = script === undefined ? '' : ` in ${script}`;
  const command = DENIED_COMMAND.exec(message)?.[1];
  if (command !== undefined) return new RedisPermissionError(`to run the '${command}' command${inScript}`, command);
  if (DENIED_IN_SCRIPT.test(message)) {
    return new RedisPermissionError(`to run one of the commands in ${script ?? 'a script'}; Redis 7.0 does not say which, its ACL LOG does`);
  }
  if (DENIED_KEY.test(message)) return new RedisPermissionError(`to access one of its keys${inScript}: the ACL key pattern must cover the key prefix`);
  if (DENIED_CHANNEL.test(message)) return new RedisPermissionError(`to use a channel${inScript}`);
  return undefined;
}
