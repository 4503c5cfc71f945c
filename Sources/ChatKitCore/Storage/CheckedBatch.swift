//===----------------------------------------------------------------------===//
//
// This source file is part of the ChatKit open source project
//
// Copyright (c) 2026 the ChatKit project authors
// Licensed under Apache License v2.0 (see LICENSE)
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The outcome of each element of a batch whose elements are checked one by one and then processed together.
///
/// Elements that `check` refuses get its error; the others go to `process` together, in order, and each gets the
/// outcome `process` returns for it, at its own place. `process` is not called when every element was refused,
/// and must return one outcome per element it was given. Batched appends use it: a `send` or a message that
/// fails its own checks is answered on its own while the rest are stored together.
///
/// Inlinable, so that callers in other modules get a copy specialized for their types: unspecialized, its
/// generic iteration looked up type metadata at run time, 1.5 % of a server's CPU in SQLite pairs.
@inlinable
package func outcomesOfCheckedBatch<Element, Checked, Output>(
    _ elements: [Element],
    check: (Element) throws -> Checked,
    process: ([Checked]) async -> [Result<Output, any Error>]
) async -> [Result<Output, any Error>] {
    // By index, not `enumerated()` or `zip`, which copy each element and outcome they pass.
    var outcomes = [Result<Output, any Error>](repeating: .failure(UnprocessedElement()), count: elements.count)
    var checked: [Checked] = []
    var positions: [Int] = []
    for position in elements.indices {
        do {
            checked.append(try check(elements[position]))
            positions.append(position)
        } catch {
            outcomes[position] = .failure(error)
        }
    }
    if !checked.isEmpty {
        var processed = await process(checked)
        precondition(
            processed.count == checked.count,
            "a batch returned \(processed.count) outcomes for \(checked.count) elements"
        )
        // Every position not refused gets its outcome here; the placeholder above never remains.
        for index in processed.indices.reversed() { outcomes[positions[index]] = processed.removeLast() }
    }
    return outcomes
}

/// The placeholder outcome of an element of ``outcomesOfCheckedBatch(_:check:process:)`` until its own is known;
/// never returned.
@usableFromInline
struct UnprocessedElement: Error {
    @usableFromInline init() {}
}
