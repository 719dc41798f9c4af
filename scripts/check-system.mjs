// Runs before `npm test`: names any system package the test suite needs that this machine lacks.
import { execFileSync } from "node:child_process";

const required = [{ command: "git", args: ["--version"], apt: "git" }];
const missing = required.filter(({ command, args }) => {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  const names = missing.map((item) => item.apt).join(" ");
  console.error(`The tests need: ${missing.map((item) => item.command).join(", ")}. Install with: sudo apt-get install -y ${names}`);
  process.exit(1);
}
