import EventLog
import Foundation
import JSONCoding

/// The items `chat_events` records change, with their images before and after, for readers of
/// the log as a DynamoDB stream. Two kinds of item live in one table, keyed as a single-table
/// design would key them:
///
///     channel   pk CHANNEL#<channelId>   sk CHANNEL
///     message   pk CHANNEL#<channelId>   sk MESSAGE#<messageId>
///
/// Nothing is stored for this: an image before a change is folded again from the channel's own
/// records (a message from its creation on, a channel from its start), once per item in a run
/// of records read in order; later records of that item in the run use what the run knows.
package struct ChatItemChanges {
    /// Items as of the last record handed to `change(for:)`; `.some(nil)`: known not to exist.
    private var known: [String: ItemChange.Image?] = [:]
    private let storage: any LogStorage

    package init(storage: any LogStorage) {
        self.storage = storage
    }

    /// The item a record changes, or nil for a record that changes none (an agent failure).
    struct Target {
        var key: String
        var channelID: String
        var messageID: String?
        var kind: ItemChange.Kind

        var keys: ItemChange.Image {
            [
                "pk": .string("CHANNEL#\(channelID)"),
                "sk": .string(messageID.map { "MESSAGE#\($0)" } ?? "CHANNEL"),
            ]
        }
    }

    static func target(of record: Record) -> Target? {
        guard record.stream == .chatEvents, let channelID = record.channelID else { return nil }
        func message(_ id: String?, _ kind: ItemChange.Kind) -> Target? {
            id.map { Target(key: "m:" + $0, channelID: channelID, messageID: $0, kind: kind) }
        }
        let channel = { (kind: ItemChange.Kind) in
            Target(key: "c:" + channelID, channelID: channelID, messageID: nil, kind: kind)
        }
        switch record.type {
        case ChatRecordType.channelCreated: return channel(.insert)
        case ChatRecordType.channelRenamed, ChatRecordType.memberAdded, ChatRecordType.memberRemoved:
            return channel(.modify)
        case ChatRecordType.channelDeleted: return channel(.remove)
        case ChatRecordType.messageCreated: return message(record.id.description, .insert)
        case ChatRecordType.messageEdited:
            return message(
                try? JSONDecoder().decode(MessageEditedPayload.self, from: Data(record.payload)).messageId,
                .modify)
        case ChatRecordType.messageDeleted:
            return message(
                try? JSONDecoder().decode(MessageDeletedPayload.self, from: Data(record.payload)).messageId,
                .remove)
        default: return nil
        }
    }

    /// What `record` did; records must come in the log's order.
    package mutating func change(for record: Record) async throws -> ItemChange? {
        guard let target = Self.target(of: record) else { return nil }
        if target.kind != .insert, known[target.key] == nil {
            known[target.key] = .some(try await fold(target, before: record))
        }
        let old = target.kind == .insert ? nil : known[target.key] ?? nil
        let new = Self.applied(record, to: old)
        known[target.key] = .some(new)
        return ItemChange(kind: target.kind, keys: target.keys, oldImage: old, newImage: new)
    }

    /// The item just before `record`, folded from the channel's records: nil when the log no
    /// longer holds its start.
    private func fold(_ target: Target, before record: Record) async throws -> ItemChange.Image? {
        guard let until = record.channelSeq else { return nil }
        var after: SequenceNumber = 0
        if let messageID = target.messageID {
            let message = try storage.readProjections { try ChatQueries(store: $0).message(messageID) }
            guard let message, message.seq >= 1 else { return nil }
            after = message.seq - 1
        }
        var image: ItemChange.Image?
        var started = false
        while after + 1 < until {
            let records = try await storage.channelRecords(
                stream: .chatEvents, channelID: target.channelID, after: after,
                limit: Int(min(until - after - 1, 1000)))
            guard !records.isEmpty else { break }
            for earlier in records where (earlier.channelSeq ?? 0) < until {
                guard let touched = Self.target(of: earlier), touched.key == target.key else { continue }
                if touched.kind == .insert { started = true }
                image = Self.applied(earlier, to: image)
            }
            after = records.last?.channelSeq ?? until
        }
        return started ? image : nil
    }

    /// The item after `record`, given the item before it.
    static func applied(_ record: Record, to old: ItemChange.Image?) -> ItemChange.Image? {
        func decode<T: Decodable>(_ type: T.Type) -> T? {
            try? JSONDecoder().decode(type, from: Data(record.payload))
        }
        let channelID = record.channelID ?? record.partitionKey
        switch record.type {
        case ChatRecordType.channelCreated:
            guard let created = decode(ChannelCreatedPayload.self) else { return nil }
            return [
                "pk": .string("CHANNEL#\(channelID)"), "sk": .string("CHANNEL"), "id": .string(channelID),
                "name": .string(created.name), "agent": .bool(created.agent),
                "createdBy": .string(record.actor),
                "createdAt": .string(record.createdAt.rfc3339),
                "members": .array(created.members.map(JSONValue.string)),
            ]
        case ChatRecordType.channelRenamed:
            guard var image = old, let renamed = decode(ChannelRenamedPayload.self) else { return nil }
            image["name"] = .string(renamed.name)
            return image
        case ChatRecordType.memberAdded, ChatRecordType.memberRemoved:
            guard var image = old, case .array(var members) = image["members"],
                let member = decode(MemberPayload.self)
            else { return nil }
            members.removeAll { $0 == .string(member.userId) }
            if record.type == ChatRecordType.memberAdded { members.append(.string(member.userId)) }
            image["members"] = .array(members)
            return image
        case ChatRecordType.messageCreated:
            guard let message = try? Message(created: record) else { return nil }
            var image: ItemChange.Image = [
                "pk": .string("CHANNEL#\(message.channelId)"), "sk": .string("MESSAGE#\(message.id)"),
                "id": .string(message.id), "channelId": .string(message.channelId),
                "seq": .number(Double(message.seq)), "senderId": .string(message.senderId),
                "createdAt": .string(message.createdAt),
            ]
            image["text"] = message.text.map(JSONValue.string)
            image["metadata"] = message.metadata
            image["replyTo"] = message.replyTo.map(JSONValue.string)
            return image
        case ChatRecordType.messageEdited:
            guard var image = old, let edited = decode(MessageEditedPayload.self) else { return nil }
            image["text"] = .string(edited.text)
            image["editedAt"] = .string(record.createdAt.rfc3339)
            return image
        default:
            return nil
        }
    }
}
