import JSONCoding

/// The REST shapes of a message and a channel, written straight to JSON text.
extension Message: JSONWritable {
    package func write(to json: inout JSONText) {
        json.object { object in
            object.field("id", id)
            object.field("channelId", channelId)
            object.field("seq", seq)
            object.field("senderId", senderId)
            object.field("text", text)
            object.field("createdAt", createdAt)
            if let metadata { object.field("metadata", metadata) }
            object.field("editedAt", editedAt)
            if deleted == true { object.field("deleted", true) }
            object.field("replyTo", replyTo)
        }
    }
}

extension Channel: JSONWritable {
    package func write(to json: inout JSONText) {
        json.object { object in
            object.field("id", id)
            object.field("name", name)
            object.field("members", array: members) { $0.string($1) }
            object.field("agent", agent)
            object.field("createdBy", createdBy)
            object.field("createdAt", createdAt)
            object.field("lastReadSeq", lastReadSeq)
            object.field("unreadCount", UInt64(unreadCount))
        }
    }
}
