// What an end-to-end test file of the NosanaJob controller shares: one localnet (in the test
// process, reached over HTTP), namespaces of its own on the shared test cluster with the
// nosana.io APIs installed, a ServiceAccount identity for the controller, and the controller
// running as a child process watching those namespaces. Tests within a file run one after another
// and use markets and wallets of their own, so they share the process without sharing money.
import { after, before } from 'node:test';
import type { LocalnetOptions } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { useLocalnet } from '../localnet/support.ts';
import { controllerIdentity, startController, type ControllerIdentity, type ControllerProcessOptions } from './controller-process.ts';
import { useCluster, type ClusterContext } from './fixture.ts';
import { LocalnetFaults, localnetDir } from './localnet-faults.ts';
import { installNosanaApis } from './nosana-apis.ts';
import { NosanaNamespace } from './nosana-fixtures.ts';
import type { OperatorProcess } from './operator-process.ts';

/** Controller settings of a file; the kubeconfig, localnet and namespaces come from the scene. */
export type SceneControllerOptions = Omit<ControllerProcessOptions, 'kubeconfigPath' | 'localnetDir' | 'namespaces'>;

export interface SceneOptions {
  localnet?: Omit<LocalnetOptions, 'stateDir'>;
  controller?: SceneControllerOptions;
  /** Start the controller in the file's `before` (default); crash tests start their own. */
  startController?: boolean;
  /** How many namespaces the file gets (the controller watches all of them). */
  namespaces?: number;
  prefix?: string;
}

export class NosanaScene {
  readonly ctx: ClusterContext;
  readonly localnet: Localnet;
  readonly faults: LocalnetFaults;
  readonly namespaces: NosanaNamespace[];
  readonly identity: ControllerIdentity;
  readonly #controllerDefaults: SceneControllerOptions;
  readonly #controllers = new Set<OperatorProcess>();
  #controller: OperatorProcess | undefined;

  constructor(
    ctx: ClusterContext,
    localnet: Localnet,
    namespaces: NosanaNamespace[],
    identity: ControllerIdentity,
    controllerDefaults: SceneControllerOptions,
  ) {
    this.ctx = ctx;
    this.localnet = localnet;
    this.faults = new LocalnetFaults(localnet);
    this.namespaces = namespaces;
    this.identity = identity;
    this.#controllerDefaults = controllerDefaults;
  }

  /** The first namespace: where most tests work. */
  get ns(): NosanaNamespace {
    return this.namespaces[0]!;
  }

  /** The controller started last. */
  get controller(): OperatorProcess {
    if (this.#controller === undefined) throw new Error('no controller was started in this scene');
    return this.#controller;
  }

  /** Starts a controller watching the scene's namespaces (it is not ready yet). */
  async startController(overrides: SceneControllerOptions & { kubeconfigPath?: string } = {}): Promise<OperatorProcess> {
    const controller = await startController({
      kubeconfigPath: this.identity.kubeconfigPath,
      localnetDir: localnetDir(this.localnet),
      namespaces: this.namespaces.map((ns) => ns.name),
      ...this.#controllerDefaults,
      ...overrides,
    });
    this.#controllers.add(controller);
    this.#controller = controller;
    return controller;
  }

  hasRunningController(): boolean {
    return [...this.#controllers].some((controller) => controller.running);
  }

  /** Stops every controller of the scene; their logs go with them. */
  async stopControllers(): Promise<void> {
    await Promise.all([...this.#controllers].map((controller) => controller.stop()));
    this.#controllers.clear();
  }
}

/**
 * Registers the file's hooks; call it inside the file's describe() so they run before the
 * cluster fixture's own (which deletes the namespaces). The getter works inside tests.
 */
export function useNosanaScene(options: SceneOptions = {}): () => NosanaScene {
  let scene: NosanaScene | undefined;
  // Registered before the localnet's hooks, so it runs first at the end (after hooks run in
  // registration order): jobs are released while the controller and the localnet still run,
  // then the controller stops, then the localnet.
  after(async () => {
    if (scene === undefined) return;
    scene.faults.clear();
    // with no controller left to cancel them, the jobs only lose their finalizers
    const releaseMs = scene.hasRunningController() ? 30_000 : 0;
    for (const ns of scene.namespaces) await ns.releaseJobs(releaseMs);
    await scene.stopControllers();
    await scene.identity.remove();
  });
  // 100 ms slots: posts land in a fraction of a second, yet blockhash lifetimes stay meaningful
  const getLocalnet = useLocalnet({ ...options.localnet, chain: { slotMs: 100, ...options.localnet?.chain } });
  before(async () => {
    const ctx = await useCluster();
    await installNosanaApis(ctx);
    const names = await Promise.all(Array.from({ length: options.namespaces ?? 1 }, () => ctx.freshNamespace(options.prefix ?? 'nj')));
    const identity = await controllerIdentity(ctx, names[0]!);
    const localnet = getLocalnet();
    scene = new NosanaScene(
      ctx,
      localnet,
      names.map((name) => new NosanaNamespace(ctx, localnet, name)),
      identity,
      options.controller ?? {},
    );
    if (options.startController ?? true) {
      await (await scene.startController()).waitReady();
    }
  });
  return () => {
    if (scene === undefined) throw new Error('the scene is not set up yet (use it inside a test)');
    return scene;
  };
}
