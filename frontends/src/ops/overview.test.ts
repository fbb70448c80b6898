import { describe, expect, it } from "vitest";
import { seriesRows, stateRows } from "./overview";

describe("the ops charts' rows", () => {
  it("put every topic's rate at the same time in one row, in time order", () => {
    const rows = seriesRows([
      { topic: "a", points: [[20, 2], [10, 1]] },
      { topic: "b", points: [[10, 5]] },
    ]);
    expect(rows).toEqual([{ t: 10, a: 1, b: 5 }, { t: 20, a: 2 }]);
  });

  it("list the states with the most transfers first", () => {
    expect(stateRows({ CLOSED: 3, INITIALISED: 7 })).toEqual([
      { state: "INITIALISED", count: 7 },
      { state: "CLOSED", count: 3 },
    ]);
  });
});
