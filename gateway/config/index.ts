/** Configuration: the option table, INI loading, the command line, and the generated docs. */
export { OPTIONS, OPTION_BY_NAME, PROTOCOLS, MODE_OPTIONS, LISTENER_SECTION_RE, defaultServerConfig, isListenerOption, modeOf, modeIsSet, type ServerConfig, type OptionScope, type OptionDef, type AnyOptionDef, type OptionName, type ModeName, type Protocol } from './options.js';
export { BadValue, parseBoolean, BOOLEAN_WORDS } from './values.js';
export { resolveConfig, configError, listenersOf, type Config, type Listener, type Setting, type FileSettings, type ListenerSettings, type CliSettings } from './resolve.js';
export { readConfigFile, loadConfig, SECTIONS } from './load.js';
export { parseArgs, bindSettings, type ParsedArgs } from './argv.js';
export { helpText } from './help.js';
export { describeSource, type Source } from './source.js';
