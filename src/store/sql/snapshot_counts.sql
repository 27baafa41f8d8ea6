SELECT requests, retries FROM snapshot WHERE id = ?1
