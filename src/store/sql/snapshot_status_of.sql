SELECT status FROM snapshot WHERE id = ?1
