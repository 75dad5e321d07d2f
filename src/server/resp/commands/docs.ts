/**
 * COMMAND DOCS data: for every RESP command frostkv registers (and the ones its families are
 * adding), a summary in frostkv's own words, the Redis version that introduced it, its time
 * complexity and its syntax, turned into Redis 7's COMMAND DOCS reply shape.
 *
 * Guarantees:
 * - A syntax line is parsed once, at load, into Redis 7's argument maps (`name`, `type`,
 *   `token`, `flags` as a set of status strings, nested `arguments` for `oneof` / `block`),
 *   which is what redis-cli 7 reads for `HELP <command>` and its typing hints. A syntax line
 *   that does not parse throws at start-up, so a typo cannot ship.
 * - `writeDocs` answers a command's map: summary, since, group (always), complexity,
 *   arguments, and its subcommands' maps under `subcommands`, in Redis's field order. A
 *   definition's own `docs` (table.ts) take precedence over this table.
 *
 * The syntax notation: `name` is a string argument, `name:type` another type (key, integer,
 * double, pattern, unix-time); an UPPER-CASE word is a token (alone: a pure token; followed
 * by one argument: that argument's token; by several: a block's token); `[...]` is optional,
 * `(...)` a required group; `|` separates the alternatives of a oneof; `...` after an
 * argument or a group means it repeats. `group=` at the start of a group names it.
 */

import type { RespWriter } from '../../../protocol/resp/writer.js';
import type { CommandEntry } from './table.js';

type ArgType = 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
const kScalarTypes: ReadonlySet<string> = new Set(['string', 'integer', 'double', 'key', 'pattern', 'unix-time']);

export interface DocArgument {
  readonly name: string;
  readonly type: ArgType;
  readonly token?: string;
  readonly flags: ReadonlyArray<'optional' | 'multiple'>;
  readonly arguments?: readonly DocArgument[];
}

export interface DocEntry {
  readonly summary: string;
  readonly since: string;
  readonly complexity: string;
  readonly arguments: readonly DocArgument[];
}

// ------------------------------------------------------------------ the syntax parser

class SyntaxReader {
  private readonly tokens: string[];
  private at = 0;
  private readonly source: string;

  constructor(source: string) {
    this.source = source;
    this.tokens = source.replace(/([[\]()|])/g, ' $1 ').split(/\s+/).filter((t) => t !== '');
  }

  private fail(why: string): never {
    throw new Error(`COMMAND DOCS syntax "${this.source}": ${why}`);
  }

  peek(): string | undefined {
    return this.tokens[this.at];
  }

  next(): string {
    const token = this.tokens[this.at++];
    if (token === undefined) this.fail('unexpected end');
    return token;
  }

  /** A sequence of items up to `]`, `)`, `|` or the end. */
  sequence(): DocArgument[] {
    const items: DocArgument[] = [];
    for (let t = this.peek(); t !== undefined && t !== ']' && t !== ')' && t !== '|'; t = this.peek()) items.push(this.item());
    return this.attachTokens(items);
  }

  /** Pure tokens followed by arguments become those arguments' tokens (or a block's). */
  private attachTokens(items: DocArgument[]): DocArgument[] {
    if (items.length >= 2 && items[0]?.type === 'pure-token' && items[0].flags.length === 0) {
      const [token, ...rest] = items as [DocArgument, ...DocArgument[]];
      if (rest.length === 1 && (rest[0] as DocArgument).token === undefined) return [{ ...(rest[0] as DocArgument), token: token.token as string }];
      return [{ name: (rest[0] as DocArgument).name, type: 'block', token: token.token as string, flags: [], arguments: rest }];
    }
    return items;
  }

  private item(): DocArgument {
    const t = this.next();
    if (t === '[' || t === '(') return this.group(t === '[' ? ']' : ')');
    if (/^[a-z][a-z0-9-]*=$/.test(t)) {
      // `label=(...)` or `label=[...]`: the group that follows, named.
      const open = this.next();
      if (open !== '[' && open !== '(') this.fail(`${t} must be followed by a group`);
      return { ...this.group(open === '[' ? ']' : ')'), name: t.slice(0, -1) };
    }
    const repeats = t.endsWith('...');
    const word = repeats ? t.slice(0, -3) : t;
    const flags: Array<'multiple'> = repeats ? ['multiple'] : [];
    if (/^[A-Z][A-Z0-9_-]*$/.test(word)) return { name: word.toLowerCase(), type: 'pure-token', token: word, flags };
    const [name, type = 'string'] = word.split(':') as [string, string?];
    if (!/^[a-z][a-z0-9_-]*$/.test(name) || !kScalarTypes.has(type)) this.fail(`bad argument ${word}`);
    return { name, type: type as ArgType, flags };
  }

  private group(close: string): DocArgument {
    let name: string | null = null;
    const first = this.peek();
    if (first !== undefined && /^[a-z][a-z0-9-]*=[^=]+$/.test(first)) {
      const [label, rest] = first.split('=') as [string, string];
      name = label;
      this.tokens[this.at] = rest;
    }
    const alternatives: DocArgument[][] = [this.sequence()];
    while (this.peek() === '|') {
      this.next();
      alternatives.push(this.sequence());
    }
    if (this.next() !== close) this.fail(`expected ${close}`);
    const optional = close === ']';
    let repeats = false;
    if (this.peek() === '...') {
      this.next();
      repeats = true;
    }
    const flags = [...(optional ? (['optional'] as const) : []), ...(repeats ? (['multiple'] as const) : [])];
    const single = (items: DocArgument[]): DocArgument =>
      items.length === 1 ? (items[0] as DocArgument) : { name: items[0]?.name ?? 'block', type: 'block', flags: [], arguments: items };
    if (alternatives.length === 1) {
      const inner = single(alternatives[0] as DocArgument[]);
      return { ...inner, name: name ?? inner.name, flags: [...inner.flags, ...flags] };
    }
    const options = alternatives.map(single);
    return { name: name ?? (options[0] as DocArgument).name, type: 'oneof', flags, arguments: options };
  }

  done(): void {
    if (this.at !== this.tokens.length) this.fail(`unexpected ${this.tokens[this.at]}`);
  }
}

/** Parse a syntax line (the notation in the header) into Redis 7 argument maps. */
export function parseSyntax(source: string): DocArgument[] {
  // `...` written after a closing bracket or parenthesis belongs to that group.
  const reader = new SyntaxReader(source.replace(/([\])])\.\.\./g, '$1 ...'));
  const args = reader.sequence();
  reader.done();
  return args;
}

// ------------------------------------------------------------------ the table

/** [name, summary, since, complexity, syntax]. Subcommands are `container|sub`. */
type Row = readonly [string, string, string, string, string];

const kExpiryOptions = '[condition=NX|XX|GT|LT]';
const kSetExpiry = '[expiration=EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]';

const kRows: readonly Row[] = [
  // strings
  ['get', 'Answer the string value stored at a key.', '1.0.0', 'O(1)', 'key:key'],
  ['set', 'Store a string value at a key, optionally only if it exists or not, returning the old value, with an expiry.', '1.0.0', 'O(1)', `key:key value [condition=NX|XX] [GET] ${kSetExpiry}`],
  ['setnx', 'Store a string value at a key only when the key does not exist yet.', '1.0.0', 'O(1)', 'key:key value'],
  ['setex', 'Store a string value at a key that expires after a number of seconds.', '2.0.0', 'O(1)', 'key:key seconds:integer value'],
  ['psetex', 'Store a string value at a key that expires after a number of milliseconds.', '2.6.0', 'O(1)', 'key:key milliseconds:integer value'],
  ['getex', "Answer a key's string value and change or remove its expiry.", '6.2.0', 'O(1)', 'key:key [expiration=EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]'],
  ['getdel', "Answer a key's string value and delete the key.", '6.2.0', 'O(1)', 'key:key'],
  ['getset', 'Store a new string value at a key and answer the value it replaced.', '1.0.0', 'O(1)', 'key:key value'],
  ['mget', 'Answer the string values of several keys; nil for a missing key or another type.', '1.0.0', 'O(N) where N is the number of keys', 'key:key...'],
  ['mset', 'Store several key-value pairs at once.', '1.0.1', 'O(N) where N is the number of keys', '(data=key:key value)...'],
  ['msetnx', 'Store several key-value pairs only when none of the keys exists.', '1.0.1', 'O(N) where N is the number of keys', '(data=key:key value)...'],
  ['append', "Add bytes to the end of a key's string value, creating the key when missing.", '2.0.0', 'O(1) amortized', 'key:key value'],
  ['strlen', "Answer the length in bytes of a key's string value.", '2.2.0', 'O(1)', 'key:key'],
  ['getrange', "Answer a byte range of a key's string value.", '2.4.0', 'O(N) where N is the length of the range answered', 'key:key start:integer end:integer'],
  ['substr', "Answer a byte range of a key's string value (the old name of GETRANGE).", '1.0.0', 'O(N) where N is the length of the range answered', 'key:key start:integer end:integer'],
  ['setrange', "Overwrite part of a key's string value from an offset, padding with zero bytes.", '2.2.0', 'O(1), plus the copy of the new bytes', 'key:key offset:integer value'],
  ['incr', "Add one to a key's integer value.", '1.0.0', 'O(1)', 'key:key'],
  ['decr', "Subtract one from a key's integer value.", '1.0.0', 'O(1)', 'key:key'],
  ['incrby', "Add an integer to a key's integer value.", '1.0.0', 'O(1)', 'key:key increment:integer'],
  ['decrby', "Subtract an integer from a key's integer value.", '1.0.0', 'O(1)', 'key:key decrement:integer'],
  ['incrbyfloat', "Add a floating point number to a key's numeric value.", '2.6.0', 'O(1)', 'key:key increment:double'],
  ['lcs', 'Find the longest common subsequence of two string values.', '7.0.0', 'O(N*M) where N and M are the lengths of the two strings', 'key1:key key2:key [LEN] [IDX] [MINMATCHLEN min-match-len:integer] [WITHMATCHLEN]'],
  ['setbit', "Set or clear one bit of a key's string value.", '2.2.0', 'O(1)', 'key:key offset:integer value:integer'],
  ['getbit', "Answer one bit of a key's string value.", '2.2.0', 'O(1)', 'key:key offset:integer'],
  ['bitcount', 'Count the set bits of a string value, optionally in a byte or bit range.', '2.6.0', 'O(N)', 'key:key [range=start:integer end:integer [unit=BYTE|BIT]]'],
  ['bitpos', 'Find the first bit set to 0 or 1 in a string value.', '2.8.7', 'O(N)', 'key:key bit:integer [range=start:integer [end:integer [unit=BYTE|BIT]]]'],
  ['bitop', 'Combine string values bit by bit (AND, OR, XOR, NOT) into a destination key.', '2.6.0', 'O(N)', 'operation=(AND|OR|XOR|NOT) destkey:key key:key...'],
  ['bitfield', 'Read, set and increment integers of any width at any bit offset of a string value.', '3.2.0', 'O(1) for each operation', 'key:key [operation=GET encoding offset:integer|SET encoding offset:integer value:integer|INCRBY encoding offset:integer increment:integer|OVERFLOW overflow-type=(WRAP|SAT|FAIL)]...'],
  ['bitfield_ro', 'Read integers of any width at any bit offset of a string value.', '6.0.0', 'O(1) for each operation', 'key:key [GET encoding offset:integer]...'],
  // keyspace and expiry
  ['del', 'Delete keys; answers how many existed.', '1.0.0', 'O(N) where N is the number of keys', 'key:key...'],
  ['unlink', 'Delete keys, releasing their memory in the background; answers how many existed.', '4.0.0', 'O(1) per key', 'key:key...'],
  ['exists', 'Count how many of the given keys exist (a key named twice counts twice).', '1.0.0', 'O(N) where N is the number of keys', 'key:key...'],
  ['touch', 'Count how many of the given keys exist, marking them as just used.', '3.2.1', 'O(N) where N is the number of keys', 'key:key...'],
  ['type', "Answer the type of a key's value (string, list, hash, ...), or none.", '1.0.0', 'O(1)', 'key:key'],
  ['rename', 'Give a key a new name, replacing any key of that name.', '1.0.0', 'O(1)', 'key:key newkey:key'],
  ['renamenx', 'Give a key a new name only when no key has that name.', '1.0.0', 'O(1)', 'key:key newkey:key'],
  ['copy', 'Copy a key and its expiry to another key, optionally in another database.', '6.2.0', 'O(N) for collections, O(1) for strings', 'source:key destination:key [DB destination-db:integer] [REPLACE]'],
  ['move', 'Move a key to another database.', '1.0.0', 'O(1)', 'key:key db:integer'],
  ['randomkey', 'Answer a key chosen at random, or nil when the database is empty.', '1.0.0', 'O(1)', ''],
  ['keys', 'Answer every key that matches a glob-style pattern.', '1.0.0', 'O(N) where N is the number of keys in the database', 'pattern:pattern'],
  ['scan', "Iterate over the database's keys a batch at a time with a cursor.", '2.8.0', 'O(1) per call, O(N) for a whole iteration', 'cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]'],
  ['expire', 'Make a key expire after a number of seconds.', '1.0.0', 'O(1)', `key:key seconds:integer ${kExpiryOptions}`],
  ['pexpire', 'Make a key expire after a number of milliseconds.', '2.6.0', 'O(1)', `key:key milliseconds:integer ${kExpiryOptions}`],
  ['expireat', 'Make a key expire at a Unix time in seconds.', '1.2.0', 'O(1)', `key:key unix-time-seconds:unix-time ${kExpiryOptions}`],
  ['pexpireat', 'Make a key expire at a Unix time in milliseconds.', '2.6.0', 'O(1)', `key:key unix-time-milliseconds:unix-time ${kExpiryOptions}`],
  ['ttl', 'Answer the seconds left before a key expires (-1 without expiry, -2 when missing).', '1.0.0', 'O(1)', 'key:key'],
  ['pttl', 'Answer the milliseconds left before a key expires (-1 without expiry, -2 when missing).', '2.6.0', 'O(1)', 'key:key'],
  ['expiretime', 'Answer the Unix time in seconds at which a key expires.', '7.0.0', 'O(1)', 'key:key'],
  ['pexpiretime', 'Answer the Unix time in milliseconds at which a key expires.', '7.0.0', 'O(1)', 'key:key'],
  ['persist', "Remove a key's expiry.", '2.2.0', 'O(1)', 'key:key'],
  ['object', "Inspect how a key's value is held.", '2.2.3', 'Depends on the subcommand', ''],
  ['object|encoding', "Answer the internal encoding of a key's value.", '2.2.3', 'O(1)', 'key:key'],
  ['object|refcount', "Answer the reference count of a key's value.", '2.2.3', 'O(1)', 'key:key'],
  ['object|idletime', 'Answer the seconds since a key was last read or written.', '2.2.3', 'O(1)', 'key:key'],
  ['object|freq', "Answer a key's access frequency counter (needs an LFU eviction policy).", '4.0.0', 'O(1)', 'key:key'],
  ['object|help', 'Describe the OBJECT subcommands.', '6.2.0', 'O(1)', ''],
  // hashes
  ['hset', 'Set fields of a hash, creating it when missing; answers how many fields were added.', '2.0.0', 'O(1) per field', 'key:key (data=field value)...'],
  ['hsetnx', 'Set a hash field only when it does not exist.', '2.0.0', 'O(1)', 'key:key field value'],
  ['hmset', 'Set fields of a hash (the older form of HSET, answering OK).', '2.0.0', 'O(1) per field', 'key:key (data=field value)...'],
  ['hget', 'Answer the value of a hash field.', '2.0.0', 'O(1)', 'key:key field'],
  ['hmget', 'Answer the values of several hash fields.', '2.0.0', 'O(N) where N is the number of fields', 'key:key field...'],
  ['hdel', 'Delete fields of a hash; answers how many existed.', '2.0.0', 'O(N) where N is the number of fields', 'key:key field...'],
  ['hlen', 'Answer how many fields a hash has.', '2.0.0', 'O(1)', 'key:key'],
  ['hstrlen', "Answer the length of a hash field's value.", '3.2.0', 'O(1)', 'key:key field'],
  ['hexists', 'Answer whether a hash has a field.', '2.0.0', 'O(1)', 'key:key field'],
  ['hkeys', 'Answer every field name of a hash.', '2.0.0', 'O(N) where N is the size of the hash', 'key:key'],
  ['hvals', 'Answer every value of a hash.', '2.0.0', 'O(N) where N is the size of the hash', 'key:key'],
  ['hgetall', 'Answer every field and value of a hash.', '2.0.0', 'O(N) where N is the size of the hash', 'key:key'],
  ['hincrby', "Add an integer to a hash field's integer value.", '2.0.0', 'O(1)', 'key:key field increment:integer'],
  ['hincrbyfloat', "Add a floating point number to a hash field's numeric value.", '2.6.0', 'O(1)', 'key:key field increment:double'],
  ['hrandfield', 'Answer random fields of a hash, optionally with their values.', '6.2.0', 'O(N) where N is the number of fields answered', 'key:key [options=count:integer [WITHVALUES]]'],
  ['hscan', "Iterate over a hash's fields and values with a cursor.", '2.8.0', 'O(1) per call, O(N) for a whole iteration', 'key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]'],
  // transactions
  ['multi', 'Start a transaction: the following commands are queued until EXEC.', '1.2.0', 'O(1)', ''],
  ['exec', 'Run the queued commands of a transaction as one step.', '1.2.0', 'Depends on the queued commands', ''],
  ['discard', 'Drop the queued commands of a transaction.', '2.0.0', 'O(N) where N is the number of queued commands', ''],
  ['watch', 'Make the next EXEC fail if any of these keys changes before it.', '2.2.0', 'O(1) per key', 'key:key...'],
  ['unwatch', 'Forget every watched key.', '2.2.0', 'O(1)', ''],
  // connection
  ['auth', 'Log the connection in, as a user or as the default user.', '1.0.0', 'O(N) where N is the number of passwords of the user', '[username] password'],
  ['hello', 'Choose the protocol version, optionally log in and name the connection; answers facts about the server.', '6.0.0', 'O(1)', '[arguments=protover:integer [AUTH username password] [SETNAME clientname]]'],
  ['ping', 'Answer PONG, or the given message.', '1.0.0', 'O(1)', '[message]'],
  ['echo', 'Answer the given message.', '1.0.0', 'O(1)', 'message'],
  ['quit', 'Close the connection once the reply is sent.', '1.0.0', 'O(1)', ''],
  ['reset', "Return the connection to its initial state (database 0, no transaction, default user, RESP2).", '6.2.0', 'O(1)', ''],
  ['select', 'Switch the connection to another numbered database.', '1.0.0', 'O(1)', 'index:integer'],
  ['client', 'Inspect and manage client connections.', '2.4.0', 'Depends on the subcommand', ''],
  ['client|getname', "Answer the connection's name.", '2.6.9', 'O(1)', ''],
  ['client|setname', 'Name the connection.', '2.6.9', 'O(1)', 'connection-name'],
  ['client|id', "Answer the connection's id.", '5.0.0', 'O(1)', ''],
  ['client|info', 'Describe this connection in the CLIENT LIST format.', '6.2.0', 'O(1)', ''],
  ['client|list', 'Describe every client connection, one line each.', '2.4.0', 'O(N) where N is the number of clients', '[TYPE client-type=(NORMAL|MASTER|REPLICA|PUBSUB)] [ID client-id:integer...]'],
  ['client|kill', 'Close client connections chosen by address, id, user or type.', '2.4.0', 'O(N) where N is the number of clients', '(filter=ip-port|(new-format=ID client-id:integer|TYPE client-type|USER username|ADDR ip-port|LADDR ip-port|SKIPME yes-no)...)'],
  ['client|setinfo', 'Record the client library name or version of the connection.', '7.2.0', 'O(1)', '(attr=LIB-NAME libname|LIB-VER libver)'],
  ['client|no-evict', 'Exempt the connection from client eviction, or not.', '7.0.0', 'O(1)', 'enabled=(ON|OFF)'],
  ['client|no-touch', "Keep the connection's reads from changing keys' last access time, or not.", '7.2.0', 'O(1)', 'enabled=(ON|OFF)'],
  ['client|reply', 'Turn the replies to this connection off, on, or skip the next one.', '3.2.0', 'O(1)', 'action=(ON|OFF|SKIP)'],
  ['client|pause', 'Hold the commands of every client (or only writes) for a number of milliseconds.', '3.0.0', 'O(1)', 'timeout:integer [mode=WRITE|ALL]'],
  ['client|unpause', 'End a CLIENT PAUSE now.', '6.2.0', 'O(N) where N is the number of paused clients', ''],
  ['client|help', 'Describe the CLIENT subcommands.', '5.0.0', 'O(1)', ''],
  // server
  ['dbsize', 'Answer how many keys the selected database holds.', '1.0.0', 'O(1)', ''],
  ['flushdb', 'Delete every key of the selected database.', '1.0.0', 'O(1): the old keys are released in the background', '[flush-type=ASYNC|SYNC]'],
  ['flushall', 'Delete every key of every database.', '1.0.0', 'O(1) per database: the old keys are released in the background', '[flush-type=ASYNC|SYNC]'],
  ['swapdb', 'Exchange the contents of two databases.', '4.0.0', 'O(N) where N is the number of keys in both databases', 'index1:integer index2:integer'],
  ['bgsave', 'Start a live save in the background (or schedule one after the running save).', '1.0.0', 'O(1) to start; the save is encoded off the main thread', '[SCHEDULE]'],
  ['save', 'Run a live save and answer once it is on disk.', '1.0.0', 'O(N) where N is the number of keys', ''],
  ['lastsave', 'Answer the Unix time of the last successful live save.', '1.0.0', 'O(1)', ''],
  ['mksnap', 'Write a snapshot (a named one in rsnap/<name>, else a local one in snaps/) and answer once it is on disk (frostkv).', '1.0.0', 'O(N) where N is the number of keys', '[name]'],
  ['lssnap', 'Answer the names of the named snapshots in rsnap/ that hold a complete save (frostkv).', '1.0.0', 'O(N) where N is the number of saves in the data directory', ''],
  ['shutdown', 'Stop the server: save first (unless NOSAVE, or saves are off without SAVE), close every connection, and exit.', '1.0.0', 'O(N) when saving, where N is the number of keys', '[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]'],
  ['time', "Answer the server's clock: Unix seconds and microseconds.", '2.6.0', 'O(1)', ''],
  ['info', 'Answer facts and counters about the server, by section.', '1.0.0', 'O(1)', '[section...]'],
  ['config', 'Read and change configuration parameters.', '2.0.0', 'Depends on the subcommand', ''],
  ['config|get', 'Answer the parameters matching the patterns, with their values.', '2.0.0', 'O(N) where N is the number of parameters', 'parameter...'],
  ['config|set', 'Change parameters, all of them or none.', '2.0.0', 'O(N) where N is the number of parameters', '(data=parameter value)...'],
  ['config|resetstat', 'Zero the counters INFO reports.', '2.0.0', 'O(1)', ''],
  ['config|rewrite', 'Write the configuration in force back to the configuration file.', '2.8.0', 'O(1)', ''],
  ['config|help', 'Describe the CONFIG subcommands.', '5.0.0', 'O(1)', ''],
  ['command', 'Describe the commands the server knows.', '2.8.13', 'O(N) where N is the number of commands', ''],
  ['command|count', 'Answer how many commands the server knows.', '2.8.13', 'O(1)', ''],
  ['command|list', 'Answer the command names, optionally filtered by ACL category or pattern.', '7.0.0', 'O(N) where N is the number of commands', '[FILTERBY filterby=(MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]'],
  ['command|info', 'Describe the named commands.', '2.8.13', 'O(N) where N is the number of commands named', '[command-name...]'],
  ['command|docs', 'Answer the documentation of the named commands.', '7.0.0', 'O(N) where N is the number of commands named', '[command-name...]'],
  ['command|getkeys', 'Answer the keys of a full command line.', '2.8.13', 'O(N) where N is the number of arguments', 'command args...'],
  ['command|getkeysandflags', 'Answer the keys of a full command line with their key flags.', '7.0.0', 'O(N) where N is the number of arguments', 'command args...'],
  ['command|help', 'Describe the COMMAND subcommands.', '5.0.0', 'O(1)', ''],
  ['memory', 'Inspect memory use.', '4.0.0', 'Depends on the subcommand', ''],
  ['memory|usage', 'Estimate the bytes a key and its value take.', '4.0.0', 'O(1) for strings, O(N) for collections', 'key:key [SAMPLES count:integer]'],
  ['memory|help', 'Describe the MEMORY subcommands.', '4.0.0', 'O(1)', ''],
];

export const kCommandDocs: ReadonlyMap<string, DocEntry> = new Map(
  kRows.map(([name, summary, since, complexity, syntax]) => [name, { summary, since, complexity, arguments: parseSyntax(syntax) }]),
);

// ------------------------------------------------------------------ the reply

/** Argument flags in the order Redis lists them. */
const kArgFlagOrder = ['optional', 'multiple'] as const;

function writeArguments(w: RespWriter, args: readonly DocArgument[]): void {
  w.array(args.length);
  for (const arg of args) {
    const nested = arg.type === 'oneof' || arg.type === 'block';
    w.map(2 + (arg.token === undefined ? 0 : 1) + (arg.flags.length === 0 ? 0 : 1) + (nested ? 1 : 0));
    w.bulk('name');
    w.bulk(arg.name);
    w.bulk('type');
    w.bulk(arg.type);
    if (arg.token !== undefined) {
      w.bulk('token');
      w.bulk(arg.token);
    }
    if (arg.flags.length > 0) {
      w.bulk('flags');
      const flags = kArgFlagOrder.filter((flag) => arg.flags.includes(flag));
      w.set(flags.length);
      for (const flag of flags) w.simple(flag);
    }
    if (nested) {
      w.bulk('arguments');
      writeArguments(w, arg.arguments ?? []);
    }
  }
}

/** One COMMAND DOCS value for a command or subcommand. */
export function writeDocs(w: RespWriter, entry: CommandEntry): void {
  const own = entry.definition.docs;
  const table = kCommandDocs.get(entry.fullName);
  const summary = own?.summary ?? table?.summary;
  const since = own?.since ?? table?.since;
  const complexity = own?.complexity ?? table?.complexity;
  const args = table?.arguments ?? [];
  const subs = [...(entry.subcommands?.values() ?? [])];
  const fields = 1 + (summary === undefined ? 0 : 1) + (since === undefined ? 0 : 1) + (complexity === undefined ? 0 : 1) + (args.length > 0 ? 1 : 0) + (subs.length > 0 ? 1 : 0);
  w.map(fields);
  if (summary !== undefined) {
    w.bulk('summary');
    w.bulk(summary);
  }
  if (since !== undefined) {
    w.bulk('since');
    w.bulk(since);
  }
  w.bulk('group');
  w.bulk(entry.definition.group);
  if (complexity !== undefined) {
    w.bulk('complexity');
    w.bulk(complexity);
  }
  if (args.length > 0) {
    w.bulk('arguments');
    writeArguments(w, args);
  }
  if (subs.length === 0) return;
  w.bulk('subcommands');
  w.map(subs.length);
  for (const sub of subs) {
    w.bulk(sub.fullName);
    writeDocs(w, sub);
  }
}
