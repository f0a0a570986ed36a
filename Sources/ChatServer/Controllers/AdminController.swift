import Chat
import Consumers
import EventLog
import Hummingbird
import JSONCoding

/// `/v1/admin` (API key): consumer groups on a live server — list, reset, re-drive dead letters.
struct AdminController {
    let dependencies: ChatServerDependencies

    struct ResetBody: Decodable {
        var toSeq: UInt64?
        var toTime: String?
        var trimHorizon: Bool?
        var latest: Bool?
        var shard: Int?
        var dryRun: Bool?
    }

    struct ResetResponse: JSONWritable {
        var group: String
        var dryRun: Bool
        var shards: [CheckpointMove]

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("group", group)
                object.field("dryRun", dryRun)
                object.field("shards", array: shards) { json, move in
                    json.object { object in
                        object.field("stream", move.shard.stream.rawValue)
                        object.field("shard", UInt64(move.shard.shard))
                        object.field("from", move.from)
                        object.field("to", move.to)
                        object.field("toReprocess", move.toReprocess)
                    }
                }
            }
        }
    }

    struct GroupsResponse: JSONWritable {
        typealias Group = (
            name: String, status: [ShardID: ConsumerStatus.Shard], shards: [GroupPosition], deadLetters: Int
        )
        var groups: [Group]

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("groups", array: groups) { json, group in
                    json.object { object in
                        object.field("name", group.name)
                        object.field("running", group.status.values.contains { $0.running })
                        object.field("deadLetters", UInt64(group.deadLetters))
                        object.field("shards", array: group.shards) { json, shard in
                            let status = group.status[shard.shard.shard]
                            json.object { object in
                                object.field("stream", shard.shard.stream.rawValue)
                                object.field("shard", UInt64(shard.shard.shard))
                                object.field("checkpoint", shard.checkpoint)
                                object.field("head", shard.head)
                                object.field("lag", shard.lag)
                                object.field("running", status?.running ?? false)
                                object.field("processed", status?.processed ?? 0)
                                object.field("retries", status?.retries ?? 0)
                                object.field("failingAttempts", UInt64(status?.failingAttempts ?? 0))
                                object.field("checkpointsRefused", status?.checkpointsRefused ?? 0)
                                object.field("lastError", status?.lastError, includeNull: true)
                            }
                        }
                    }
                }
            }
        }
    }

    struct StreamsResponse: JSONWritable {
        var shards: [ShardInfo]

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("shards", array: shards) { json, shard in
                    json.object { object in
                        object.field("stream", shard.stream.rawValue)
                        object.field("shard", UInt64(shard.shard))
                        object.field("firstSeq", shard.firstSeq)
                        object.field("head", shard.head)
                        object.field("records", shard.recordCount)
                        object.field("bytes", shard.bytes)
                    }
                }
            }
        }
    }

    struct RedriveResponse: JSONWritable {
        var redriven: [String]
        var failed: [(String, String)]

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("redriven", array: redriven) { $0.string($1) }
                object.field("failed", array: failed) { json, entry in
                    json.object { object in
                        object.field("position", entry.0)
                        object.field("error", entry.1)
                    }
                }
            }
        }
    }

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.get("streams", use: streams)
        group.get("consumers", use: list)
        group.post("consumers/{group}/reset", use: reset)
        group.post("consumers/{group}/dlq/redrive", use: redrive)
    }

    private var storage: any LogBackend { dependencies.storage }

    /// `GET /v1/admin/streams`: every shard of every stream, with its trim horizon and head.
    @Sendable func streams(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        StreamsResponse
    > {
        var shards: [ShardInfo] = []
        for shard in storage.streams.flatMap(\.shards) { shards.append(try await storage.shardInfo(shard)) }
        return JSONResponse(body: StreamsResponse(shards: shards))
    }

    @Sendable func list(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        GroupsResponse
    > {
        let stored = try await GroupPosition.all(in: storage)
        let letters = try await storage.deadLetters(group: nil)
        let live = dependencies.liveGroups
        let names = Set(stored.map(\.group)).union(live.map(\.name)).sorted()
        let groups: [GroupsResponse.Group] = names.map { name in
            (
                name: name, status: live.first { $0.name == name }?.status.snapshot ?? [:],
                shards: stored.first { $0.group == name }?.shards ?? [],
                deadLetters: letters.filter { $0.group == name }.count
            )
        }
        return JSONResponse(body: GroupsResponse(groups: groups))
    }

    @Sendable func reset(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ResetResponse
    > {
        let group = try context.parameters.require("group")
        // A reset saves checkpoints, and a saved checkpoint pins retention: only a group that
        // runs here or has checkpoints already may be moved.
        let live = dependencies.liveGroups.first { $0.name == group }
        let stored = try await storage.checkpoints().contains { $0.group == group }
        guard live != nil || stored else {
            throw APIError.notFound("no consumer group named '\(group)'")
        }
        let (body, _) = try await JSONBody.decode(
            ResetBody.self, from: request, context: context,
            allowedFields: ["toSeq", "toTime", "trimHorizon", "latest", "shard", "dryRun"])
        let target = try Self.target(body)
        var shards = try storage.descriptor(.chatEvents).shards
        if let shard = body.shard {
            shards = shards.filter { $0.shard == shard }
            guard !shards.isEmpty else {
                throw APIError.invalidRequest("stream chat_events has no shard \(shard)")
            }
        }
        let dryRun = body.dryRun ?? false
        let moves = try await target.move(
            group, on: shards, in: storage, dryRun: dryRun,
            control: live?.control)
        return JSONResponse(body: ResetResponse(group: group, dryRun: dryRun, shards: moves))
    }

    @Sendable func redrive(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        RedriveResponse
    > {
        let group = try context.parameters.require("group")
        guard group == AgentConsumer.group else {
            throw APIError.notFound("no running consumer group named '\(group)'")
        }
        let report = try await AgentConsumer(
            chat: dependencies.chat, responder: dependencies.responder, logger: dependencies.logger
        )
        .redrive(group, in: storage)
        return JSONResponse(
            body: RedriveResponse(
                redriven: report.redriven.map(\.description),
                failed: report.failed.map { ($0.position.description, $0.error) }))
    }

    private static func target(_ body: ResetBody) throws -> ResetTarget {
        var targets: [ResetTarget] = []
        if let seq = body.toSeq { targets.append(.sequenceNumber(seq)) }
        if let text = body.toTime {
            guard let time = Timestamp(rfc3339: text) else {
                throw APIError.invalidRequest("toTime must be an RFC 3339 time", details: ["field": "toTime"])
            }
            targets.append(.time(time))
        }
        if body.trimHorizon == true { targets.append(.trimHorizon) }
        if body.latest == true { targets.append(.latest) }
        guard targets.count == 1 else {
            throw APIError.invalidRequest("give exactly one of toSeq, toTime, trimHorizon, latest")
        }
        return targets[0]
    }
}
