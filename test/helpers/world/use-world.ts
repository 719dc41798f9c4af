import { afterEach } from "vitest";
import { buildWorld, type World, type WorldOptions } from "./build-world.js";

/**
 * Returns `keep`: a world handed to it is closed after the test that built it, and that test fails
 * when the emulator or the model saw a request they should not have.
 */
export function closeWorldsAfterEach(): <T extends World>(world: T) => T {
  let worlds: World[] = [];
  afterEach(async () => {
    const closing = worlds;
    worlds = [];
    for (const world of closing) await world.close();
    for (const world of closing) world.assertClean();
  });
  return (world) => {
    worlds.push(world);
    return world;
  };
}

/** Returns a `build` function for a test file's worlds; each is closed and checked after its test (see `closeWorldsAfterEach`). */
export function useWorld(): (options?: WorldOptions) => Promise<World> {
  const keep = closeWorldsAfterEach();
  return async (options) => keep(await buildWorld(options));
}
