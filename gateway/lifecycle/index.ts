/** The lifecycle bus (CherryPy's engine): channels start, reload, graceful, stop, exit. See engine.ts. */
export { Engine, CHANNELS, type Channel, type Listener, type LifecycleEvent, type ListenerFailure } from './engine.js';
export { runAppSetup, type AppSetup, type SetupContext } from './app-setup.js';
export { ProcessLifecycle, importAppModule, type LifecycleOptions } from './process-lifecycle.js';
